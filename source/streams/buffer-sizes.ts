// How much one request holds in memory at each stage of a transfer: small, so that many
// concurrent bodies fit a flat memory budget (16 uploads at once stay far below 150 MB), and
// large enough that each system call still moves a useful amount.

/** Buffered between the stages a body passes (socket, aws-chunked decoder, digest). */
export const STAGE_BYTES = 64 * 1024;

/** Buffered ahead of a file write, and read from a file per call. */
export const FILE_IO_BYTES = 256 * 1024;
