// The request target: base path, bucket and key split before decoding, query parameters.
import t from 'tap';
import { S3Error } from '../errors';
import { parseTarget } from './target';

const BASE = '/api/v1/s3';

function parts(url: string, basePath = BASE): [string | undefined, string | undefined] {
  const target = parseTarget(url, basePath);
  return [target.bucket, target.key];
}

function errorOf(url: string): S3Error | undefined {
  try {
    parseTarget(url, BASE);
    return undefined;
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
}

t.test('the base path and / serve the same names', async (t) => {
  for (const root of ['/', BASE, `${BASE}/`]) t.same(parts(root), [undefined, undefined], root);
  t.same(parts(`${BASE}/bucket`), ['bucket', undefined]);
  t.same(parts(`${BASE}/bucket/`), ['bucket', undefined]);
  t.same(parts(`${BASE}/bucket/dir/key.txt`), ['bucket', 'dir/key.txt']);
  t.same(parts('/bucket/dir/key.txt'), ['bucket', 'dir/key.txt']);
  t.same(parts('/bucket'), ['bucket', undefined]);
  t.same(parts(`${BASE}x/b`), ['api', 'v1/s3x/b'], 'only a whole-segment match is the base path');
  t.same(parts('/api/v1/s3'.toUpperCase()), ['API', 'V1/S3'], 'the base path is case-sensitive');
  t.same(parts(`${BASE}${BASE}/b`), ['api', 'v1/s3/b'], 'the base path is stripped once');
  t.same(parts(BASE, ''), ['api', 'v1/s3'], 'an empty base path serves / only');
  t.same(parts('/', ''), [undefined, undefined]);
  t.same(parts('/s3/b/k', '/s3'), ['b', 'k']);
});

t.test('keys keep their trailing slash and their inner empty segments (for the key rules to refuse)', async (t) => {
  t.same(parts('/b/dir/'), ['b', 'dir/']);
  t.same(parts('/b//k'), ['b', '/k']);
  t.same(parts('/b/a//c'), ['b', 'a//c']);
  t.same(parts('//b/k'), ['', 'b/k'], 'an empty bucket segment stays empty (InvalidBucketName later)');
});

t.test('segments are decoded after the split: no encoding re-shapes the path', async (t) => {
  t.same(parts('/b1/%2e%2e/b2/k'), ['b1', '../b2/k'], '%2e%2e is a literal segment, not normalized');
  t.same(parts('/b1/%2E%2E'), ['b1', '..']);
  t.same(parts('/b1/../b2/k'), ['b1', '../b2/k'], 'a raw .. is not normalized either');
  t.same(parts('/b1/./k'), ['b1', './k']);
  t.same(parts('/b/a%2Fb'), ['b', 'a/b'], '%2F in a key is a slash of the key');
  t.same(parts('/b/a%2fb%2F'), ['b', 'a/b/']);
  t.same(parts('/a%2Fb/k'), ['a/b', 'k'], '%2F in the bucket stays inside the bucket name');
  t.same(parts('/b/%2Fetc%2Fpasswd'), ['b', '/etc/passwd']);
  t.same(parts('/b/a%00b'), ['b', 'a\0b']);
  t.same(parts('/b/sp%20ace+plus'), ['b', 'sp ace+plus'], '+ in a path is a plus, not a space');
  t.same(parts('/b/%E2%82%AC%F0%9F%98%80'), ['b', '\u20ac\u{1f600}']);
  t.same(parts('/b/caf\u00e9'), ['b', 'caf\u00e9'], 'raw non-ASCII (as node gives it) passes');
  t.same(parts('/%62ucket/k'), ['bucket', 'k']);
  t.same(parts(`${BASE.replace('s3', '%73%33')}/b`), ['api', 'v1/s3/b'], 'an encoded base path is no base path');
});

t.test('bad percent-encoding is InvalidURI', async (t) => {
  for (const url of ['/b/%zz', '/b/%', '/b/a%2', '/%zz/k', '/b/%E0%A4%A', '/b/%C3', '/b/%ED%A0%80', '/b/%FF', '/b/%C0%AF']) {
    const error = errorOf(url);
    t.equal(error?.code, 'InvalidURI', url);
    t.equal(error?.status, 400, url);
  }
  t.match(errorOf('/b/%zz')!.message, /bad percent-encoding in "%zz"/);
});

t.test('absolute-form targets', async (t) => {
  const target = parseTarget('http://host:39999/api/v1/s3/b/k?tagging', BASE);
  t.equal(target.rawPath, '/api/v1/s3/b/k');
  t.same([target.bucket, target.key], ['b', 'k']);
  t.ok(target.query.has('tagging'));
  t.same(parts('https://user@host/b/k'), ['b', 'k']);
  const bare = parseTarget('http://host', BASE);
  t.same([bare.rawPath, bare.bucket, bare.key], ['/', undefined, undefined]);
  const queryOnly = parseTarget('http://host?list-type=2', BASE);
  t.same([queryOnly.rawPath, queryOnly.bucket, queryOnly.query.get('list-type')], ['/', undefined, '2']);
  t.same(parts('http://host/b1/%2e%2e/b2'), ['b1', '../b2'], 'no normalization in absolute form either');
  for (const url of ['*', 'host/b/k', 'b/k', '', '1http://host/b']) t.equal(errorOf(url)?.code, 'InvalidURI', JSON.stringify(url));
});

t.test('query parameters', async (t) => {
  const target = parseTarget('/b?list-type=2&prefix=a+b%2Bc&delimiter=%2F&start-after=x%26y&uploads&max-keys=', BASE);
  t.equal(target.rawPath, '/b');
  t.equal(target.query.get('list-type'), '2');
  t.equal(target.query.get('prefix'), 'a b+c', '+ is a space in a query, %2B a plus');
  t.equal(target.query.get('delimiter'), '/');
  t.equal(target.query.get('start-after'), 'x&y');
  t.equal(target.query.get('uploads'), '', 'a bare name is present with an empty value');
  t.ok(target.query.has('uploads'));
  t.equal(target.query.get('max-keys'), '');
  t.equal(target.query.get('absent'), null);
  const key = parseTarget('/b/k%3Fnot-a-query?uploadId=u%2F1&partNumber=3', BASE);
  t.equal(key.key, 'k?not-a-query', 'an encoded ? belongs to the key');
  t.equal(key.query.get('uploadId'), 'u/1');
  t.equal(key.query.get('partNumber'), '3');
  const fragment = parseTarget('/b/k?x=1#frag', BASE);
  t.same([fragment.key, fragment.query.get('x')], ['k', '1'], 'a fragment is dropped');
  t.same([...parseTarget('/b?', BASE).query], []);
});

t.test('rawPath is the path as sent', async (t) => {
  t.equal(parseTarget('/api/v1/s3/b/a%20b?x', BASE).rawPath, '/api/v1/s3/b/a%20b');
});
