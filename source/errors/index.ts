// The S3 error vocabulary every layer speaks: the code table, S3Error and its named
// constructors, and how filesystem failures map onto it. It imports nothing of sluice.
export { ERROR_CODES, type ErrorCode } from './codes';
export * from './s3-error';
export { isCode, toS3Error } from './errno';
