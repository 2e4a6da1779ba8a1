// Checksums as S3 writes them in answers: Checksum<ALG> (and ChecksumType) elements of a document,
// x-amz-checksum-<alg> (and x-amz-checksum-type) headers.
import type { XmlNode } from '../http/xml';
import type { ObjectChecksum, ObjectInfo } from '../namespace';

/** An object's checksum with its type: a record without one is a single PUT's, FULL_OBJECT. */
export function objectChecksumOf(info: Pick<ObjectInfo, 'checksum'>): Required<ObjectChecksum> | undefined {
  return info.checksum ? { ...info.checksum, type: info.checksum.type ?? 'FULL_OBJECT' } : undefined;
}

/** `Checksum<ALG>`, and `ChecksumType` for a checksum that has one (an object's, not a part's). */
export function checksumNodes(checksum: ObjectChecksum | undefined): XmlNode[] {
  if (!checksum) return [];
  const nodes: XmlNode[] = [[`Checksum${checksum.algorithm.toUpperCase()}`, checksum.value]];
  if (checksum.type) nodes.push(['ChecksumType', checksum.type]);
  return nodes;
}

/** `x-amz-checksum-<alg>`, and `x-amz-checksum-type` for a checksum that has one. */
export function checksumHeaders(checksum: ObjectChecksum | undefined): Record<string, string> {
  if (!checksum) return {};
  return { [`x-amz-checksum-${checksum.algorithm}`]: checksum.value, ...(checksum.type ? { 'x-amz-checksum-type': checksum.type } : {}) };
}
