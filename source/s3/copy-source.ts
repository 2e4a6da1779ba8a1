// The source of CopyObject and UploadPartCopy: `x-amz-copy-source` parsed, the object opened,
// its bytes read once through an MD5, and everything released whether the copy ends or fails.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { S3Error, invalidArgument } from '../errors';
import { parseBucketName, parseObjectKey, type BucketName, type Namespace, type ObjectInfo, type ObjectKey } from '../namespace';
import { FILE_IO_BYTES } from '../streams/buffer-sizes';
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

/** An opened copy source. Call `close()` in every case: it releases the file and the hashing. */
export class OpenCopySource {
  private reader: Readable | undefined;
  private digest: DigestStream | undefined;

  constructor(
    readonly info: ObjectInfo,
    private handle: FileHandle | undefined,
  ) {}

  /**
   * `length` bytes from `start` (the whole object by default), hashed as they pass: pipe `bytes`
   * to the destination, and read its MD5 once `done` resolved. Call once.
   */
  read(start = 0, length = this.info.size): { bytes: DigestStream; done: Promise<void> } {
    const bytes = new DigestStream({ expectedLength: length });
    this.digest = bytes;
    // A folder has no handle, and an empty range reads nothing.
    if (this.handle && length > 0) {
      this.reader = this.handle.createReadStream({ start, end: start + length - 1, highWaterMark: FILE_IO_BYTES, autoClose: true });
      this.handle = undefined; // the stream closes it now
    } else {
      this.reader = Readable.from([]);
    }
    const done = pump(this.reader, bytes);
    done.catch(() => undefined); // a read failure also reaches the destination through `bytes`
    return { bytes, done };
  }

  /** No-ops for what already ended; a copy that failed early releases the file and the hashing. */
  async close(): Promise<void> {
    this.digest?.destroy();
    this.reader?.destroy();
    await this.handle?.close();
    this.handle = undefined;
  }
}

export async function openCopySource(namespace: Namespace, source: CopySource): Promise<OpenCopySource> {
  const { info, handle } = await namespace.objects.open(source.bucket, source.key);
  return new OpenCopySource(info, handle);
}
