// Range and conditional headers as S3 evaluates them; content headers and user metadata.
import { statSync } from 'node:fs';
import t from 'tap';
import { S3Error } from '../errors';
import type { ObjectInfo, ObjectKey } from '../namespace';
import { checkConditions, parseContentHeaders, parseRange, parseUserMetadata, readConditions, type Conditions } from './headers';

function rangeOf(value: string | undefined, size: number): { start: number; end: number } | undefined | string {
  try {
    return parseRange(value, size);
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
}

t.test('single byte ranges', async (t) => {
  const cases: [string | undefined, number, ReturnType<typeof rangeOf>][] = [
    [undefined, 10, undefined],
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=0-9', 10, { start: 0, end: 9 }],
    ['bytes=2-5', 10, { start: 2, end: 5 }],
    ['bytes=0-100', 10, { start: 0, end: 9 }],
    ['bytes=0-99999999999999999999', 10, { start: 0, end: 9 }],
    ['bytes=5-', 10, { start: 5, end: 9 }],
    ['bytes=9-', 10, { start: 9, end: 9 }],
    ['bytes=9-9', 10, { start: 9, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-10', 10, { start: 0, end: 9 }],
    ['bytes=-100', 10, { start: 0, end: 9 }],
    ['bytes=00-01', 10, { start: 0, end: 1 }],
    ['Bytes=1-2', 10, { start: 1, end: 2 }],
    [' bytes = 1 - 2 ', 10, { start: 1, end: 2 }],
  ];
  for (const [value, size, expected] of cases) t.same(rangeOf(value, size), expected, `${value} of ${size}`);
});

t.test('unsatisfiable ranges are InvalidRange (416)', async (t) => {
  const cases: [string, number][] = [
    ['bytes=10-', 10],
    ['bytes=10-20', 10],
    ['bytes=11-', 10],
    ['bytes=99999999999999999999-', 10],
    ['bytes=-0', 10],
    ['bytes=0-', 0],
    ['bytes=0-0', 0],
    ['bytes=-1', 0],
  ];
  for (const [value, size] of cases) t.equal(rangeOf(value, size), 'InvalidRange', `${value} of ${size}`);
  try {
    parseRange('bytes=20-30', 10);
    t.fail('no error');
  } catch (e) {
    const error = e as S3Error;
    t.equal(error.status, 416);
    t.same(error.headers, { 'Content-Range': 'bytes */10' });
    t.same(error.fields, { RangeRequested: 'bytes=20-30', ActualObjectSize: '10' });
  }
});

t.test('invalid or unsupported range forms are ignored (the whole object is sent)', async (t) => {
  for (const value of [
    '',
    'bytes=',
    'bytes=-',
    'bytes=5-4',
    'items=0-1',
    'bytes=0-1,3-4',
    'bytes=a-b',
    'bytes 0-1',
    'bytes=1.5-2',
    'bytes=--1',
    '0-1',
  ]) {
    t.equal(rangeOf(value, 10), undefined, JSON.stringify(value));
  }
});

const LAST_MODIFIED = new Date('2024-05-01T12:00:00.500Z');
const SAME_SECOND = 'Wed, 01 May 2024 12:00:00 GMT';
const BEFORE = 'Wed, 01 May 2024 11:59:59 GMT';
const AFTER = 'Wed, 01 May 2024 12:00:01 GMT';
const FUTURE = new Date(Date.now() + 86_400_000).toUTCString();

function info(etag = '0cc175b9c0f1b6a831c399e269772661'): ObjectInfo {
  return {
    key: 'k' as ObjectKey,
    size: 1,
    lastModified: LAST_MODIFIED,
    foreign: false,
    isFolder: false,
    stats: statSync(__filename, { bigint: true }),
    etag,
    headers: {},
    userMeta: {},
    tags: [],
    owner: 'o',
  };
}

/** The error code and Condition field a check gives, or 'ok'. */
function check(conditions: Conditions, forCopySource = false, etag?: string): string {
  try {
    checkConditions(conditions, info(etag), forCopySource);
    return 'ok';
  } catch (e) {
    if (!(e instanceof S3Error)) throw e;
    return e.fields.Condition ? `${e.code} ${e.fields.Condition}` : e.code;
  }
}

t.test('If-Match', async (t) => {
  const etag = '"0cc175b9c0f1b6a831c399e269772661"';
  t.equal(check({ ifMatch: etag }), 'ok');
  t.equal(check({ ifMatch: etag.slice(1, -1) }), 'ok', 'unquoted');
  t.equal(check({ ifMatch: '*' }), 'ok');
  t.equal(check({ ifMatch: `"other", ${etag}` }), 'ok', 'a list');
  t.equal(check({ ifMatch: '"other"' }), 'PreconditionFailed If-Match');
  t.equal(check({ ifMatch: '' }), 'PreconditionFailed If-Match');
  t.equal(check({ ifMatch: '"abc-2"' }, false, 'abc-2'), 'ok', 'multipart ETags');
  t.equal(check({ ifMatch: '"abc"' }, false, 'abc-2'), 'PreconditionFailed If-Match');
});

t.test('If-None-Match: 304 on reads, 412 on copy sources', async (t) => {
  t.equal(check({ ifNoneMatch: '"0cc175b9c0f1b6a831c399e269772661"' }), 'NotModified');
  t.equal(check({ ifNoneMatch: '*' }), 'NotModified');
  t.equal(check({ ifNoneMatch: '"other"' }), 'ok');
  t.equal(check({ ifNoneMatch: '"0cc175b9c0f1b6a831c399e269772661"' }, true), 'PreconditionFailed');
  t.equal(check({ ifNoneMatch: '"other"' }, true), 'ok');
});

t.test('If-Modified-Since and If-Unmodified-Since, at one-second resolution', async (t) => {
  t.equal(check({ ifModifiedSince: BEFORE }), 'ok');
  t.equal(check({ ifModifiedSince: SAME_SECOND }), 'NotModified', 'the sub-second part of the mtime does not count');
  t.equal(check({ ifModifiedSince: AFTER }), 'NotModified');
  t.equal(check({ ifModifiedSince: FUTURE }), 'ok', 'a date in the future is ignored');
  t.equal(check({ ifModifiedSince: 'not a date' }), 'ok', 'an invalid date is ignored');
  t.equal(check({ ifModifiedSince: AFTER }, true), 'PreconditionFailed');
  t.equal(check({ ifUnmodifiedSince: BEFORE }), 'PreconditionFailed If-Unmodified-Since');
  t.equal(check({ ifUnmodifiedSince: SAME_SECOND }), 'ok');
  t.equal(check({ ifUnmodifiedSince: AFTER }), 'ok');
  t.equal(check({ ifUnmodifiedSince: 'garbage' }), 'ok');
  t.equal(check({ ifModifiedSince: '2024-05-01T11:00:00Z' }), 'ok', 'ISO dates parse too');
});

t.test('precedence as S3 documents it', async (t) => {
  const etag = '"0cc175b9c0f1b6a831c399e269772661"';
  t.equal(check({ ifMatch: etag, ifUnmodifiedSince: BEFORE }), 'ok', 'If-Match true wins over If-Unmodified-Since false');
  t.equal(check({ ifMatch: '"x"', ifUnmodifiedSince: AFTER }), 'PreconditionFailed If-Match');
  t.equal(check({ ifNoneMatch: '"x"', ifModifiedSince: AFTER }), 'ok', 'If-None-Match true wins over If-Modified-Since false');
  t.equal(check({ ifNoneMatch: etag, ifModifiedSince: BEFORE }), 'NotModified');
  t.equal(check({ ifMatch: '"x"', ifNoneMatch: etag }), 'PreconditionFailed If-Match', '412 before 304');
  t.equal(check({ ifMatch: etag, ifUnmodifiedSince: BEFORE, ifNoneMatch: etag }), 'NotModified');
  t.equal(check({ ifMatch: etag, ifUnmodifiedSince: BEFORE }, true), 'ok', 'copy: if-match true and if-unmodified-since false copies');
  t.equal(check({ ifNoneMatch: '"x"', ifModifiedSince: AFTER }, true), 'ok', 'copy: if-none-match true and if-modified-since false copies');
  t.equal(check({}), 'ok');
});

t.test('readConditions, plain and for copy sources', async (t) => {
  const headers = {
    'if-match': '"a"',
    'if-none-match': '"b"',
    'x-amz-copy-source-if-match': '"c"',
    'x-amz-copy-source-if-modified-since': AFTER,
  };
  t.same(readConditions(headers), { ifMatch: '"a"', ifNoneMatch: '"b"', ifModifiedSince: undefined, ifUnmodifiedSince: undefined });
  t.same(readConditions(headers, 'x-amz-copy-source-'), {
    ifMatch: '"c"',
    ifNoneMatch: undefined,
    ifModifiedSince: AFTER,
    ifUnmodifiedSince: undefined,
  });
});

t.test('content headers: aws-chunked is framing, not a content coding', async (t) => {
  t.same(parseContentHeaders({ 'content-encoding': 'aws-chunked' }), { contentType: 'application/octet-stream' });
  t.same(parseContentHeaders({ 'content-encoding': 'aws-chunked, gzip', 'content-type': 'text/plain' }), {
    contentType: 'text/plain',
    contentEncoding: 'gzip',
  });
  t.same(parseContentHeaders({ 'content-encoding': 'gzip,AWS-CHUNKED,br' }), {
    contentType: 'application/octet-stream',
    contentEncoding: 'gzip, br',
  });
  t.same(
    parseContentHeaders({
      'cache-control': 'no-cache',
      'content-disposition': 'attachment',
      'content-language': 'fr',
      expires: 'Thu, 01 Jan 2099 00:00:00 GMT',
    }),
    {
      contentType: 'application/octet-stream',
      contentDisposition: 'attachment',
      cacheControl: 'no-cache',
      contentLanguage: 'fr',
      expires: 'Thu, 01 Jan 2099 00:00:00 GMT',
    },
  );
});

t.test('user metadata and its bound', async (t) => {
  t.same(parseUserMetadata({ 'x-amz-meta-color': 'blue', 'x-amz-meta-size': 'L', 'content-type': 'x' }, 2048), {
    color: 'blue',
    size: 'L',
  });
  const meta = { 'x-amz-meta-k': 'v'.repeat(9) }; // 1 + 9 = 10 bytes
  t.same(parseUserMetadata(meta, 10), { k: 'v'.repeat(9) }, 'exactly the bound');
  t.throws(() => parseUserMetadata(meta, 9), { code: 'MetadataTooLarge', fields: { Size: '10', MaxSizeAllowed: '9' } });
  t.same(parseUserMetadata({ 'x-amz-meta-big': 'x'.repeat(100_000) }, 0), { big: 'x'.repeat(100_000) }, '0: no bound');
  // Node gives header values one character per byte received: UTF-8 '€€€' is 9 characters.
  const euros = Buffer.from('\u20ac\u20ac\u20ac', 'utf8').toString('latin1');
  t.throws(() => parseUserMetadata({ 'x-amz-meta-e': euros }, 9), { code: 'MetadataTooLarge' }, 'counted in bytes as received');
  t.same(parseUserMetadata({ 'x-amz-meta-e': euros }, 10), { e: euros }, '1 + 9 bytes fit 10, kept as received');
});
