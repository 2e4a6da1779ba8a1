// Failures of the filesystem (errno codes) and what a client is told of them.
import { S3Error } from './s3-error';

/** True when `e` is a system error with one of these codes (ENOENT, EEXIST, ...). */
export const isCode = (e: unknown, ...codes: string[]): boolean => codes.includes((e as NodeJS.ErrnoException | undefined)?.code ?? '');

/** Maps a failure from the filesystem or anywhere else to the S3 error a client should see. */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'EMFILE':
    case 'ENFILE':
      return new S3Error('SlowDown', 'The server is out of file descriptors; retry shortly.');
    case 'ENOSPC':
    case 'EDQUOT':
      // 507, not 503: a full disk is not a busy server, and clients should not retry blindly.
      return new S3Error('InsufficientStorage');
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new S3Error('AccessDenied', 'The server may not access this path on its filesystem.');
    case 'ENAMETOOLONG':
      return new S3Error('KeyTooLongError', 'A segment of the key is too long for the filesystem.');
    default:
      return new S3Error('InternalError');
  }
}
