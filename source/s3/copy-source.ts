// The source of CopyObject and UploadPartCopy: `x-amz-copy-source` parsed, the object opened,
// its bytes read once through an MD5, and everything released whether the copy ends or fails.
import { Readable } from 'node:stream';
import { S3Error, invalidArgument } from '../errors';
import {
  parseBucketName,
  parseObjectKey,
  type BucketName,
  type Namespace,
  type ObjectBody,
  type ObjectInfo,
  type ObjectKey,
} from '../namespace';
import type { ChecksumAlgorithm } from '../streams/checksums';
import { DigestStream } from '../streams/digest';
import { pump } from '../streams/pump';

export interface CopySource {
  bucket: BucketName;
  key: ObjectKey;
}

const MALFORMED = 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey';

/** `bucket/key` or `/bucket/key`, URL-encoded, optionally with `?versionId=null`. */
export function parseCopySource(value: string): CopySource {
  let text = value.trim();
  const question = text.indexOf('?');
  if (question >= 0) {
    const params = new URLSearchParams(text.slice(question + 1));
    const version = params.get('versionId');
    if (version !== null && version !== 'null') throw new S3Error('NoSuchVersion');
    text = text.slice(0, question);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw invalidArgument(MALFORMED, 'x-amz-copy-source');
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw invalidArgument(MALFORMED, 'x-amz-copy-source');
  return { bucket: parseBucketName(decoded.slice(0, slash)), key: parseObjectKey(decoded.slice(slash + 1)) };
}

/** An opened copy source. Call `close()` in every case: it releases the object and the hashing. */
export class OpenCopySource {
  private reader: Readable | undefined;
  private digest: DigestStream | undefined;

  constructor(
    readonly info: ObjectInfo,
    private readonly body: ObjectBody | undefined,
  ) {}

  /**
   * `length` bytes from `start` (the whole object by default), hashed as they pass (MD5, and
   * `checksum` if named): pipe `bytes` to the destination, and read its digests once `done`
   * resolved. Call once.
   */
  read(start = 0, length = this.info.size, checksum?: ChecksumAlgorithm): { bytes: DigestStream; done: Promise<void> } {
    const bytes = new DigestStream({ expectedLength: length, checksums: checksum ? [checksum] : [] });
    this.digest = bytes;
    // A folder has no body, and an empty range reads nothing.
    this.reader = this.body && length > 0 ? this.body.stream(start, length) : Readable.from([]);
    const done = pump(this.reader, bytes);
    done.catch(() => undefined); // a read failure also reaches the destination through `bytes`
    return { bytes, done };
  }

  /** No-ops for what already ended; a copy that failed early releases the object and the hashing. */
  async close(): Promise<void> {
    this.digest?.destroy();
    this.reader?.destroy();
    await this.body?.close();
  }
}

export async function openCopySource(namespace: Namespace, source: CopySource): Promise<OpenCopySource> {
  const { info, body } = await namespace.objects.open(source.bucket, source.key);
  return new OpenCopySource(info, body);
}
