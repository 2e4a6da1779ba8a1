// The checksum of an object CompleteMultipartUpload assembles, as S3 makes it: from the parts'
// checksums (COMPOSITE `<base64>-N`, or a FULL_OBJECT CRC combined from the parts' CRCs and
// lengths), never by reading the parts again; checked against what the request says.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors';
import { headerValue } from '../http/headers';
import type { ObjectChecksum, PartInfo, UploadRecord } from '../namespace';
import { CHECKSUM_ALGORITHMS, multipartChecksum, type ChecksumAlgorithm } from '../streams/checksums';

/** A part as the complete request names it: its number, and the Checksum<ALG> elements it sent. */
export interface NamedPart {
  partNumber: number;
  checksums: Map<ChecksumAlgorithm, string>;
}

/**
 * The object's checksum and its parts' (undefined for an upload that names no algorithm, or whose
 * parts lack one: parts of an older sluice). A composite upload's request must name every part's
 * checksum (S3's rule); the request's own x-amz-checksum-type and x-amz-checksum-<alg> must agree.
 */
export function assembledChecksum(
  record: UploadRecord,
  requested: NamedPart[],
  parts: PartInfo[],
  headers: IncomingHttpHeaders,
): { checksum: ObjectChecksum; partChecksums: string[] } | undefined {
  const algorithm = record.checksumAlgorithm;
  if (!algorithm) return undefined;
  const type = record.checksumType ?? 'COMPOSITE';
  const NAME = algorithm.toUpperCase();
  const typeHeader = headerValue(headers, 'x-amz-checksum-type')?.trim().toUpperCase();
  if (typeHeader !== undefined && typeHeader !== type) {
    throw new S3Error(
      'InvalidRequest',
      `The upload was created using the ${type} checksum mode. The complete request must use the same checksum mode.`,
    );
  }
  if (type === 'COMPOSITE') {
    const missing = requested.find((part) => !part.checksums.has(algorithm));
    if (missing) {
      throw new S3Error(
        'InvalidRequest',
        `The upload was created using a ${algorithm} checksum. The complete request must include the checksum for each part. ` +
          `It was missing for part ${missing.partNumber} in the request.`,
      );
    }
  }
  if (parts.some((part) => part.checksum?.algorithm !== algorithm)) return undefined;
  const value = multipartChecksum(
    algorithm,
    type,
    parts.map((part) => ({ value: part.checksum!.value, size: part.size })),
  );
  for (const other of CHECKSUM_ALGORITHMS) {
    const expected = headerValue(headers, `x-amz-checksum-${other}`)?.trim();
    if (expected === undefined) continue;
    if (other !== algorithm) {
      throw new S3Error('InvalidRequest', `The upload was created using a ${algorithm} checksum; the request names a ${other} one.`);
    }
    // A composite may be named with or without its `-N`.
    if (expected !== value && `${expected}-${parts.length}` !== value) {
      throw new S3Error('BadDigest', `The ${NAME} you specified did not match the calculated checksum.`);
    }
  }
  return { checksum: { algorithm, value, type }, partChecksums: parts.map((part) => part.checksum!.value) };
}
