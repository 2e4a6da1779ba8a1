// Bucket names and object keys: S3's rules, plus what a POSIX path can hold.
import t from 'tap';
import { S3Error } from '../errors';
import {
  bucketSegments,
  isFolderKey,
  isSubDirectoryBucket,
  isValidS3BucketName,
  keySegments,
  MAX_KEY_BYTES,
  parseBucketName,
  parseObjectKey,
} from './names';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof S3Error ? e.code : `not an S3Error: ${String(e)}`;
  }
}

t.test('valid S3 bucket names', async (t) => {
  for (const name of [
    'abc',
    'a'.repeat(63),
    'my-bucket',
    'my.bucket.name',
    '0ab',
    'ab9',
    'a-b-c',
    '123',
    'a1.b2-c3',
    'xn-ok',
    'sthree',
    'my-s3alias-not',
    'ol-s3',
  ]) {
    t.ok(isValidS3BucketName(name), name);
    t.equal(parseBucketName(name), name, name);
  }
});

t.test('invalid S3 bucket names', async (t) => {
  const cases: [string, string][] = [
    ['ab', 'too short'],
    ['', 'empty'],
    ['a'.repeat(64), 'too long'],
    ['MyBucket', 'upper case'],
    ['my_bucket', 'underscore'],
    ['my bucket', 'space'],
    ['-abc', 'leading hyphen'],
    ['abc-', 'trailing hyphen'],
    ['.abc', 'leading dot'],
    ['.sluice', 'the internal folder'],
    ['abc.', 'trailing dot'],
    ['a..b', 'two dots'],
    ['a.-b', 'dot hyphen'],
    ['a-.b', 'hyphen dot'],
    ['192.168.5.4', 'an IP address'],
    ['10.0.0.1', 'an IP address'],
    ['xn--abc', 'xn-- prefix'],
    ['sthree-abc', 'sthree- prefix'],
    ['bucket-s3alias', '-s3alias suffix'],
    ['bucket--ol-s3', '--ol-s3 suffix'],
    ['caf\u00e9', 'non-ASCII'],
    ['a/b', 'slash'],
    ['..', 'dot dot'],
    ['abc\0', 'NUL'],
  ];
  for (const [name, why] of cases) {
    t.notOk(isValidS3BucketName(name), `${why}: ${JSON.stringify(name)}`);
    t.equal(
      codeOf(() => parseBucketName(name)),
      'InvalidBucketName',
      why,
    );
  }
  try {
    parseBucketName('Bad');
  } catch (e) {
    t.same((e as S3Error).fields, { BucketName: 'Bad' }, 'the error names the bucket');
    t.equal((e as S3Error).status, 400);
  }
});

t.test('Alluxio sub-directory buckets a:b:c', async (t) => {
  const bucket = parseBucketName('abc:def:g h');
  t.equal(bucket, 'abc:def:g h');
  t.same(bucketSegments(bucket), ['abc', 'def', 'g h'], 'later segments are any directory name');
  t.ok(isSubDirectoryBucket(bucket));
  t.notOk(isSubDirectoryBucket(parseBucketName('abc')));
  t.same(bucketSegments(parseBucketName('abc')), ['abc']);
  t.equal(parseBucketName('abc:Upper_Case:.hidden:x'), 'abc:Upper_Case:.hidden:x');
  t.equal(parseBucketName(`abc:${'\u00e9'.repeat(127)}`), `abc:${'\u00e9'.repeat(127)}`, '254 bytes');
  const cases: [string, string][] = [
    ['ABC:def', 'first segment must be a valid S3 name'],
    ['ab:cd', 'first segment too short'],
    ['abc:', 'empty last segment'],
    ['abc::def', 'empty middle segment'],
    [':abc', 'empty first segment'],
    ['abc:.', '.'],
    ['abc:..', '..'],
    ['abc:..:..:etc', 'climbing out'],
    ['abc:a/b', 'slash'],
    ['abc:a\\b', 'backslash'],
    ['abc:a\0b', 'NUL'],
    [`abc:${'x'.repeat(256)}`, 'segment longer than 255 bytes'],
    [`abc:${'\u00e9'.repeat(128)}`, '256 UTF-8 bytes'],
    ['abc:\ud800', 'lone surrogate (would alias U+FFFD on disk)'],
    ['abc:x\udc00y', 'lone low surrogate'],
  ];
  for (const [name, why] of cases)
    t.equal(
      codeOf(() => parseBucketName(name)),
      'InvalidBucketName',
      `${why}: ${JSON.stringify(name)}`,
    );
});

t.test('valid object keys', async (t) => {
  for (const key of [
    'a',
    'dir/file.txt',
    'dir/',
    'a/b/c/',
    '...',
    '.a',
    'a.',
    '..a',
    'a..',
    ' ',
    'a b',
    'caf\u00e9',
    '\u{1f600}',
    'a\\b',
    'x/.hidden/y',
    '-',
    'a\nb',
    '\ue000\uffff',
    'a/.sluice-objects',
    'a/x.sluice-object',
    '.sluice-folder2/b',
    '.sluice-tmp',
  ]) {
    t.equal(parseObjectKey(key), key, JSON.stringify(key));
  }
  const max = `${'a'.repeat(255)}/${'b'.repeat(255)}/${'c'.repeat(255)}/${'d'.repeat(255)}/`; // 1024 bytes
  t.equal(Buffer.byteLength(max), MAX_KEY_BYTES);
  t.equal(parseObjectKey(max), max, 'exactly 1024 bytes');
  const multibyte = `${'\u20ac'.repeat(85)}/`.repeat(4) + 'abcd'; // 4 * (255 + 1) + 4 bytes, 344 characters
  t.equal(Buffer.byteLength(multibyte), 1028);
  t.equal(
    codeOf(() => parseObjectKey(multibyte)),
    'KeyTooLongError',
    'bytes are counted, not characters',
  );
  t.equal(parseObjectKey(multibyte.slice(0, -4)), multibyte.slice(0, -4), '1024 bytes of 3-byte characters');
});

t.test('invalid object keys', async (t) => {
  const cases: [string, string, string][] = [
    ['', 'InvalidArgument', 'empty'],
    ['/', 'InvalidArgument', 'a lone slash'],
    ['/a', 'InvalidArgument', 'leading slash'],
    ['a//b', 'InvalidArgument', 'empty segment'],
    ['a//', 'InvalidArgument', 'empty segment before the folder slash'],
    ['.', 'InvalidArgument', '.'],
    ['..', 'InvalidArgument', '..'],
    ['./a', 'InvalidArgument', '. segment'],
    ['a/./b', 'InvalidArgument', '. segment inside'],
    ['a/../b', 'InvalidArgument', '.. segment inside'],
    ['../etc/passwd', 'InvalidArgument', 'climbing out'],
    ['a/..', 'InvalidArgument', 'trailing ..'],
    ['a/../', 'InvalidArgument', 'trailing ../'],
    ['./', 'InvalidArgument', 'folder named .'],
    ['a\0b', 'InvalidArgument', 'NUL'],
    ['\0', 'InvalidArgument', 'NUL alone'],
    ['a\ud800', 'InvalidArgument', 'lone high surrogate'],
    ['\udc00a', 'InvalidArgument', 'lone low surrogate'],
    ['\ude00\ud83d', 'InvalidArgument', 'surrogates in the wrong order'],
    ['a'.repeat(1025), 'KeyTooLongError', '1025 bytes'],
    [`${'a/'.repeat(512)}b`, 'KeyTooLongError', '1025 bytes with slashes'],
    ['x'.repeat(256), 'KeyTooLongError', 'a segment longer than 255 bytes'],
    [`d/${'\u00e9'.repeat(128)}/`, 'KeyTooLongError', 'a segment of 256 UTF-8 bytes'],
    ['logs/.sluice-object', 'InvalidArgument', 'the name of a nested object'],
    ['.sluice-object', 'InvalidArgument', 'the nested-object name alone'],
    ['a/.sluice-object/b', 'InvalidArgument', 'the nested-object name inside'],
    ['photos/.sluice-folder', 'InvalidArgument', "the name of a folder object's bytes"],
    ['a/.sluice-folder/', 'InvalidArgument', 'the folder-bytes name as a folder'],
    ['a/.sluice-tmp.nest.0123', 'InvalidArgument', 'a temp or staging name'],
  ];
  for (const [key, code, why] of cases)
    t.equal(
      codeOf(() => parseObjectKey(key)),
      code,
      `${why}: ${JSON.stringify(key.slice(0, 40))}`,
    );
});

t.test('errors name the key only where XML can carry it', async (t) => {
  const fieldsOf = (key: string): Record<string, string> | undefined => {
    try {
      parseObjectKey(key);
      return undefined;
    } catch (e) {
      return (e as S3Error).fields;
    }
  };
  t.same(fieldsOf('a/../b'), { Key: 'a/../b' });
  t.same(fieldsOf('a\0b'), {}, 'a NUL would make the error document unparseable');
});

t.test('folder keys and segments', async (t) => {
  t.ok(isFolderKey(parseObjectKey('dir/')));
  t.ok(isFolderKey(parseObjectKey('a/b/')));
  t.notOk(isFolderKey(parseObjectKey('dir')));
  t.same(keySegments(parseObjectKey('a/b/c')), ['a', 'b', 'c']);
  t.same(keySegments(parseObjectKey('a/b/')), ['a', 'b']);
  t.same(keySegments(parseObjectKey('file')), ['file']);
});
