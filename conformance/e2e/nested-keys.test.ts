// Keys that are both an object and a prefix (`logs` and `logs/2024/a`), and folder objects that
// hold bytes (`photos/`), end to end with raw HTTP and boto3: both orders of creation, what lies
// on disk, GET/HEAD/tags/copy/delete of either key, listings (v1, v2, versions; delimiters;
// pages that end at the boundary; Alluxio's directories and S3's), multipart completes onto a
// directory and onto `dir/`, DeleteObjects of both. (Concurrency and crashes: faults/nested-moves.)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { boto3, createBucket, errorCode, filesUnder, lastJson, md5Hex, putObject, s3, startSluice, xmlValue, xmlValues, type RawResponse, type Sluice } from '../lib/harness';
import { MiB } from '../lib/multipart-helpers';

const B = 'nested';

/** A sluice with the bucket, stopped when the test ends. */
async function fresh(t: Test, args: string[] = []): Promise<Sluice> {
  const server = await startSluice({ args });
  t.teardown(() => server.stop());
  await createBucket(server, B);
  return server;
}

function list(server: Sluice, query: Record<string, string>): Promise<RawResponse> {
  return s3(server, 'GET', `/${B}?${new URLSearchParams(query).toString()}`);
}

/** The CommonPrefixes of a listing (not its own Prefix element). */
const commonPrefixes = (xml: string): string[] => [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) => m[1]!);

/** Every key of a listing, paged `pageSize` at a time with ListObjectsV2 continuation tokens. */
async function pagedKeys(server: Sluice, query: Record<string, string>, pageSize: number): Promise<{ keys: string[]; prefixes: string[]; pages: number }> {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  for (let pages = 1; pages < 100; pages++) {
    const res = await list(server, { 'list-type': '2', 'max-keys': String(pageSize), ...query, ...(token ? { 'continuation-token': token } : {}) });
    if (res.status !== 200) throw new Error(`list: ${res.status} ${res.text}`);
    keys.push(...xmlValues(res.text, 'Key'));
    prefixes.push(...commonPrefixes(res.text));
    if (xmlValue(res.text, 'IsTruncated') !== 'true') return { keys, prefixes, pages };
    token = xmlValue(res.text, 'NextContinuationToken');
  }
  throw new Error('too many pages');
}

/** Staging folders and placeholders must never outlive a move. */
function leftovers(root: string): string[] {
  return filesUnder(join(root, B)).filter((p) => p.includes('.sluice-tmp.'));
}

t.test('an object, then a key below it: the object moves inside its new directory', async (t) => {
  const server = await fresh(t);
  const logs = await putObject(server, B, 'logs', 'the logs object', { 'Content-Type': 'text/x-log', 'x-amz-meta-kind': 'top', 'x-amz-tagging': 'a=1' });
  t.same(filesUnder(join(server.root, B)), ['logs'], 'a plain file while nothing is below it');
  const inode = statSync(join(server.root, B, 'logs')).ino;

  t.equal((await putObject(server, B, 'logs/2024/a', 'deep a')).status, 200, 'a key below an object is written');
  t.same(filesUnder(join(server.root, B)), ['logs/', 'logs/.sluice-object', 'logs/2024/', 'logs/2024/a'], 'the object is logs/.sluice-object now');
  t.equal(statSync(join(server.root, B, 'logs', '.sluice-object')).ino, inode, 'the same file, moved (never copied)');
  t.equal(readFileSync(join(server.root, B, 'logs', '.sluice-object'), 'utf8'), 'the logs object');

  const got = await s3(server, 'GET', `/${B}/logs`);
  t.equal(got.text, 'the logs object', 'GET logs: its bytes');
  t.equal(got.headers.etag, logs.headers.etag, 'its ETag');
  t.equal(got.headers['content-type'], 'text/x-log', 'its metadata followed it');
  t.equal(got.headers['x-amz-meta-kind'], 'top');
  t.equal(got.headers['x-amz-tagging-count'], '1');
  t.equal((await s3(server, 'HEAD', `/${B}/logs`)).headers['content-length'], String('the logs object'.length), 'HEAD logs');
  t.equal((await s3(server, 'GET', `/${B}/logs?partNumber=1`)).text, 'the logs object', 'GET with partNumber');
  t.equal((await s3(server, 'GET', `/${B}/logs`, { headers: { Range: 'bytes=4-7' } })).text, 'logs', 'a range of it');
  t.equal((await s3(server, 'GET', `/${B}/logs/2024/a`)).text, 'deep a', 'and the deeper key');

  // Tags of the nested object.
  const tagging = '<Tagging><TagSet><Tag><Key>b</Key><Value>2</Value></Tag></TagSet></Tagging>';
  t.equal((await s3(server, 'PUT', `/${B}/logs?tagging`, { body: tagging })).status, 200);
  t.match((await s3(server, 'GET', `/${B}/logs?tagging`)).text, /<Key>b<\/Key><Value>2<\/Value>/, 'PutObjectTagging on it');
  t.equal((await s3(server, 'DELETE', `/${B}/logs?tagging`)).status, 204);
  t.notMatch((await s3(server, 'GET', `/${B}/logs?tagging`)).text, /<Tag>/, 'DeleteObjectTagging on it');

  // Overwriting the object keeps it inside; the deeper key is untouched.
  const again = await putObject(server, B, 'logs', 'logs, second version');
  t.equal(again.headers.etag, `"${md5Hex('logs, second version')}"`);
  t.equal(readFileSync(join(server.root, B, 'logs', '.sluice-object'), 'utf8'), 'logs, second version', 'an overwrite lands inside');
  t.equal((await s3(server, 'GET', `/${B}/logs`)).text, 'logs, second version');
  t.same(leftovers(server.root), [], 'no staging folder is left');
});

t.test('a key below, then the object named like its directory', async (t) => {
  const server = await fresh(t);
  await putObject(server, B, 'data/2024/a', 'deep a');
  await putObject(server, B, 'data', 'the data object');
  t.same(filesUnder(join(server.root, B)), ['data/', 'data/.sluice-object', 'data/2024/', 'data/2024/a'], 'written straight inside the directory');
  t.equal((await s3(server, 'GET', `/${B}/data`)).text, 'the data object');

  // Through boto3: both orders, and both keys read back.
  const result = await boto3(
    server,
    `s3.put_object(Bucket='${B}', Key='x/y', Body=b'deeper first')
s3.put_object(Bucket='${B}', Key='x', Body=b'then x')
s3.put_object(Bucket='${B}', Key='p', Body=b'p first')
s3.put_object(Bucket='${B}', Key='p/q/r', Body=b'then p/q/r')
out = {k: s3.get_object(Bucket='${B}', Key=k)['Body'].read().decode() for k in ['x', 'x/y', 'p', 'p/q/r']}
out['head_p'] = s3.head_object(Bucket='${B}', Key='p')['ContentLength']
print(json.dumps(out))`,
  );
  t.same(lastJson(result), { x: 'then x', 'x/y': 'deeper first', p: 'p first', 'p/q/r': 'then p/q/r', head_p: 7 }, 'boto3 sees every key');
  t.ok(existsSync(join(server.root, B, 'x', '.sluice-object')) && existsSync(join(server.root, B, 'p', '.sluice-object')));
});

t.test('deleting either key leaves the other; the last key below gives the object back as a plain file', async (t) => {
  const server = await fresh(t);
  await putObject(server, B, 'logs', 'LOGS');
  await putObject(server, B, 'logs/2024/a', 'A');
  await putObject(server, B, 'logs/2024/b', 'B');

  t.equal((await s3(server, 'DELETE', `/${B}/logs/2024/a`)).status, 204);
  t.ok(existsSync(join(server.root, B, 'logs', '.sluice-object')), 'still nested while a key is below it');
  t.equal((await s3(server, 'DELETE', `/${B}/logs/2024/b`)).status, 204);
  t.same(filesUnder(join(server.root, B)), ['logs'], 'the last key below gone: logs is a plain file again');
  t.equal((await s3(server, 'GET', `/${B}/logs`)).text, 'LOGS', 'and reads the same');
  t.same(xmlValues((await list(server, {})).text, 'Key'), ['logs'], 'no logs/ prefix is left in the listing');

  // The other way: delete the object, keep the keys below.
  await putObject(server, B, 'logs/2024/a', 'A');
  t.equal((await s3(server, 'DELETE', `/${B}/logs`)).status, 204, 'DELETE logs');
  t.equal(errorCode(await s3(server, 'GET', `/${B}/logs`)), 'NoSuchKey', 'logs is gone');
  t.equal((await s3(server, 'HEAD', `/${B}/logs`)).status, 404);
  t.equal((await s3(server, 'GET', `/${B}/logs/2024/a`)).text, 'A', 'logs/2024/a stays');
  t.same(filesUnder(join(server.root, B)), ['logs/', 'logs/2024/', 'logs/2024/a']);
  t.equal((await s3(server, 'DELETE', `/${B}/logs`)).status, 204, 'deleting it again is fine');
  t.equal((await s3(server, 'DELETE', `/${B}/logs/2024/a`)).status, 204);
  t.same(filesUnder(join(server.root, B)), [], 'the whole prefix vanished');
});

t.test('folder objects with bytes and without', async (t) => {
  const server = await fresh(t, ['--list-directories=false']);

  // Zero bytes: a marked directory, as it always was.
  const empty = await s3(server, 'PUT', `/${B}/empty/`, { body: '', headers: { 'x-amz-tagging': 'f=1' } });
  t.equal(empty.status, 200);
  t.equal(empty.headers.etag, '"d41d8cd98f00b204e9800998ecf8427e"');
  t.same(filesUnder(join(server.root, B)), ['empty/'], 'a directory, nothing inside');
  t.equal((await s3(server, 'HEAD', `/${B}/empty/`)).headers['content-type'], 'application/x-directory');
  t.match((await s3(server, 'GET', `/${B}/empty/?tagging`)).text, /<Key>f<\/Key>/, 'its marks hold its tags');

  // Bytes: kept inside the directory, read back with their metadata.
  const photo = await s3(server, 'PUT', `/${B}/photos/`, { body: 'folder bytes', headers: { 'Content-Type': 'text/plain', 'x-amz-meta-m': 'v' } });
  t.equal(photo.status, 200, 'a folder object with bytes');
  t.equal(photo.headers.etag, `"${md5Hex('folder bytes')}"`);
  t.equal(readFileSync(join(server.root, B, 'photos', '.sluice-folder'), 'utf8'), 'folder bytes', 'its bytes are photos/.sluice-folder');
  const got = await s3(server, 'GET', `/${B}/photos/`);
  t.equal(got.text, 'folder bytes');
  t.equal(got.headers['content-type'], 'text/plain');
  t.equal(got.headers['x-amz-meta-m'], 'v');
  await putObject(server, B, 'photos/cat.jpg', 'meow');
  await putObject(server, B, 'photos', 'and the photos object');
  t.same(filesUnder(join(server.root, B, 'photos')), ['.sluice-folder', '.sluice-object', 'cat.jpg'], 'photos, photos/ and photos/cat.jpg side by side');
  t.equal((await s3(server, 'GET', `/${B}/photos/`)).text, 'folder bytes');
  t.equal((await s3(server, 'GET', `/${B}/photos`)).text, 'and the photos object');

  // S3 semantics list the folder with bytes (and the marked empty one), at their size.
  const all = await list(server, { 'list-type': '2' });
  t.same(xmlValues(all.text, 'Key'), ['empty/', 'photos', 'photos/', 'photos/cat.jpg']);
  t.same(xmlValues(all.text, 'Size'), ['0', String('and the photos object'.length), String('folder bytes'.length), '4']);

  // A zero-byte PUT over the bytes: a folder without bytes again; and with bytes over an empty one.
  t.equal((await s3(server, 'PUT', `/${B}/photos/`, { body: '' })).status, 200);
  t.notOk(existsSync(join(server.root, B, 'photos', '.sluice-folder')), 'zero bytes replace the bytes');
  t.equal((await s3(server, 'HEAD', `/${B}/photos/`)).headers['content-length'], '0');
  t.equal((await s3(server, 'PUT', `/${B}/empty/`, { body: 'now some' })).status, 200);
  t.equal((await s3(server, 'GET', `/${B}/empty/`)).text, 'now some');

  // Tags on a folder with bytes are the bytes' record.
  const tagging = '<Tagging><TagSet><Tag><Key>t</Key><Value>9</Value></Tag></TagSet></Tagging>';
  t.equal((await s3(server, 'PUT', `/${B}/empty/?tagging`, { body: tagging })).status, 200);
  t.match((await s3(server, 'GET', `/${B}/empty/?tagging`)).text, /<Key>t<\/Key><Value>9<\/Value>/);

  // Deleting: each key alone.
  t.equal((await s3(server, 'DELETE', `/${B}/empty/`)).status, 204);
  t.notOk(existsSync(join(server.root, B, 'empty')), 'a folder with bytes deleted: its directory goes');
  t.equal((await s3(server, 'DELETE', `/${B}/photos/`)).status, 204);
  t.equal((await s3(server, 'GET', `/${B}/photos`)).text, 'and the photos object', 'photos stays');
  t.equal((await s3(server, 'DELETE', `/${B}/photos/cat.jpg`)).status, 204);
  t.same(filesUnder(join(server.root, B)), ['photos'], 'photos alone is a plain file again');

  // A folder object with bytes where an object file is: that object moves inside.
  t.equal((await s3(server, 'PUT', `/${B}/photos/`, { body: 'bytes again' })).status, 200);
  t.same(filesUnder(join(server.root, B)), ['photos/', 'photos/.sluice-folder', 'photos/.sluice-object']);
  t.same(leftovers(server.root), []);

  // boto3 writes and reads a folder object with bytes like any object.
  const result = await boto3(
    server,
    `s3.put_object(Bucket='${B}', Key='b3/', Body=b'boto folder')
print(json.dumps([s3.get_object(Bucket='${B}', Key='b3/')['Body'].read().decode(), s3.head_object(Bucket='${B}', Key='b3/')['ContentLength']]))`,
  );
  t.same(lastJson(result), ['boto folder', 11]);
});

t.test('listings see both keys, in order, across page boundaries', async (t) => {
  for (const listDirectories of [true, false]) {
    const server = await fresh(t, [`--list-directories=${listDirectories}`]);
    // `logs` sorts before `logs!` and `logs.txt`, which sort before `logs/`: the nested object
    // must come out at its own place, not with its directory.
    for (const key of ['logs', 'logs/2024/a', 'logs/2024/b', 'logs!', 'logs.txt', 'logs/z', 'm', 'l']) await putObject(server, B, key, `body ${key}`);
    await s3(server, 'PUT', `/${B}/logs/`, { body: 'folder bytes' });
    const dirs = listDirectories ? ['logs/2024/'] : [];
    const expected = ['l', 'logs', 'logs!', 'logs.txt', 'logs/', ...dirs, 'logs/2024/a', 'logs/2024/b', 'logs/z', 'm'];
    const mode = listDirectories ? 'Alluxio directories' : 'S3 semantics';

    const v2 = await list(server, { 'list-type': '2' });
    t.same(xmlValues(v2.text, 'Key'), expected, `${mode}: every key once, in UTF-8 order`);
    const sizes = Object.fromEntries(xmlValues(v2.text, 'Key').map((k, i) => [k, xmlValues(v2.text, 'Size')[i]]));
    t.equal(sizes.logs, String('body logs'.length), 'logs at its own size');
    t.equal(sizes['logs/'], String('folder bytes'.length), 'logs/ at the size of its bytes');
    t.same(xmlValues((await list(server, {})).text, 'Key'), expected, `${mode}: ListObjects v1 too`);
    t.same(xmlValues((await list(server, { versions: '' })).text, 'Key'), expected, `${mode}: ListObjectVersions too`);

    for (const pageSize of [1, 2, 3]) {
      const paged = await pagedKeys(server, {}, pageSize);
      t.same(paged.keys, expected, `${mode}: pages of ${pageSize} (${paged.pages} pages) give the same keys`);
    }
    // Start exactly at the boundary: after `logs`, before `logs!`.
    t.same(xmlValues((await list(server, { 'list-type': '2', 'start-after': 'logs' })).text, 'Key'), expected.slice(2), 'start-after logs');
    t.same(xmlValues((await list(server, { marker: 'l' })).text, 'Key'), expected.slice(1), 'marker l');

    const rooted = await list(server, { 'list-type': '2', delimiter: '/' });
    t.same(xmlValues(rooted.text, 'Key'), ['l', 'logs', 'logs!', 'logs.txt', 'm'], `${mode}: with a delimiter, logs is an object`);
    t.same(commonPrefixes(rooted.text), ['logs/'], 'and logs/ a common prefix');
    for (const pageSize of [1, 2, 4]) {
      const paged = await pagedKeys(server, { delimiter: '/' }, pageSize);
      t.same([paged.keys, paged.prefixes], [['l', 'logs', 'logs!', 'logs.txt', 'm'], ['logs/']], `${mode}: delimiter pages of ${pageSize}`);
    }
    const inLogs = await list(server, { 'list-type': '2', delimiter: '/', prefix: 'logs/' });
    t.same(xmlValues(inLogs.text, 'Key'), ['logs/', 'logs/z'], `${mode}: inside logs/, the folder object and logs/z`);
    t.same(commonPrefixes(inLogs.text), ['logs/2024/']);
    const prefixed = await list(server, { 'list-type': '2', prefix: 'logs' });
    t.same(xmlValues(prefixed.text, 'Key'), expected.filter((k) => k.startsWith('logs')), `${mode}: prefix logs`);
    const exact = await list(server, { 'list-type': '2', prefix: 'logs', delimiter: '/' });
    t.same(xmlValues(exact.text, 'Key'), ['logs', 'logs!', 'logs.txt']);
    t.same(commonPrefixes(exact.text), ['logs/']);
    t.notMatch(v2.text, /sluice-object|sluice-folder|sluice-tmp/, 'sluice\'s own names are never listed');

    // boto3's paginator across the boundary, with and without a delimiter.
    const result = await boto3(
      server,
      `p = s3.get_paginator('list_objects_v2')
flat = [o['Key'] for page in p.paginate(Bucket='${B}', PaginationConfig={'PageSize': 2}) for o in page.get('Contents', [])]
top = [o['Key'] for page in p.paginate(Bucket='${B}', Delimiter='/', PaginationConfig={'PageSize': 1}) for o in page.get('Contents', [])]
print(json.dumps([flat, top]))`,
    );
    t.same(lastJson(result), [expected, ['l', 'logs', 'logs!', 'logs.txt', 'm']], `${mode}: boto3 paginators`);
  }
});

t.test('--list-directories: logs/ is the directory (0 bytes) while logs holds its own bytes', async (t) => {
  const server = await fresh(t);
  await putObject(server, B, 'logs', 'LOGS');
  await putObject(server, B, 'logs/a', 'A');
  const all = await list(server, { 'list-type': '2' });
  t.same(xmlValues(all.text, 'Key'), ['logs', 'logs/', 'logs/a']);
  t.same(xmlValues(all.text, 'Size'), ['4', '0', '1'], 'logs/ is a 0-byte directory entry, as every directory');
  const folder = await s3(server, 'HEAD', `/${B}/logs/`);
  t.equal(folder.status, 200);
  t.equal(folder.headers['content-length'], '0', 'HEAD logs/ describes the directory, not the bytes of logs');
  t.equal(folder.headers['content-type'], 'application/x-directory');
});

t.test('copy to and from both kinds', async (t) => {
  const server = await fresh(t);
  await putObject(server, B, 'src', 'nested source', { 'x-amz-meta-from': 'src' });
  await putObject(server, B, 'src/below', 'below');
  await putObject(server, B, 'dst/below', 'below');
  const copy = (to: string, from: string, headers: Record<string, string> = {}): Promise<RawResponse> =>
    s3(server, 'PUT', `/${B}/${to}`, { headers: { 'x-amz-copy-source': `/${B}/${from}`, ...headers } });

  t.equal((await copy('dst', 'src')).status, 200, 'from a nested object onto a key that is a directory');
  t.equal(readFileSync(join(server.root, B, 'dst', '.sluice-object'), 'utf8'), 'nested source');
  t.equal((await s3(server, 'GET', `/${B}/dst`)).headers['x-amz-meta-from'], 'src', 'its metadata copied');
  t.equal((await copy('plain', 'dst')).status, 200, 'from a nested object to a plain key');
  t.same(readdirSync(join(server.root, B)).includes('plain') && statSync(join(server.root, B, 'plain')).isFile(), true);
  t.equal((await copy('src/below/deeper', 'plain')).status, 200, 'onto a key below an object: it nests');
  t.equal(readFileSync(join(server.root, B, 'src', 'below', '.sluice-object'), 'utf8'), 'below');
  t.equal((await copy('folder/', 'src')).status, 200, 'to a folder object: its bytes');
  t.equal(readFileSync(join(server.root, B, 'folder', '.sluice-folder'), 'utf8'), 'nested source');
  t.equal((await copy('from-folder', 'folder/')).status, 200, 'from a folder object with bytes');
  t.equal((await s3(server, 'GET', `/${B}/from-folder`)).text, 'nested source');
  await s3(server, 'PUT', `/${B}/zero/`, { body: '' });
  t.equal((await copy('zero-copy/', 'zero/')).status, 200, 'a folder without bytes copies as one');
  t.same(readdirSync(join(server.root, B, 'zero-copy')), [], 'a directory, nothing inside');
  const self = await copy('src', 'src', { 'x-amz-metadata-directive': 'REPLACE', 'x-amz-meta-from': 'self' });
  t.equal(self.status, 200, 'a nested object copied onto itself with REPLACE');
  const after = await s3(server, 'GET', `/${B}/src`);
  t.equal(after.text, 'nested source');
  t.equal(after.headers['x-amz-meta-from'], 'self');
  t.same(leftovers(server.root), []);
});

t.test('multipart completes onto a directory and onto dir/; DeleteObjects of both keys', async (t) => {
  const server = await fresh(t);
  await putObject(server, B, 'big/part-of-a-prefix', 'below');
  await putObject(server, B, 'solo', 'a plain file that a multipart below it will nest');
  const result = await boto3(
    server,
    `import hashlib
def upload(key):
    mpu = s3.create_multipart_upload(Bucket='${B}', Key=key)
    p1 = s3.upload_part(Bucket='${B}', Key=key, UploadId=mpu['UploadId'], PartNumber=1, Body=b'a' * ${5 * MiB})
    p2 = s3.upload_part(Bucket='${B}', Key=key, UploadId=mpu['UploadId'], PartNumber=2, Body=key.encode())
    return s3.complete_multipart_upload(Bucket='${B}', Key=key, UploadId=mpu['UploadId'],
        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p1['ETag']}, {'PartNumber': 2, 'ETag': p2['ETag']}]})['ETag']
etags = [upload('big'), upload('big/'), upload('solo/x')]
sizes = [s3.head_object(Bucket='${B}', Key=k)['ContentLength'] for k in ['big', 'big/', 'solo/x', 'solo']]
tail = s3.get_object(Bucket='${B}', Key='big', Range='bytes=${5 * MiB}-')['Body'].read().decode()
print(json.dumps([etags, sizes, tail]))`,
  );
  const [etags, sizes, tail] = lastJson<[string[], number[], string]>(result);
  t.ok(etags.every((e) => /-2"$/.test(e)), 'three multipart ETags');
  t.same(sizes, [5 * MiB + 3, 5 * MiB + 4, 5 * MiB + 6, 'a plain file that a multipart below it will nest'.length]);
  t.equal(tail, 'big');
  t.equal(statSync(join(server.root, B, 'big', '.sluice-object')).size, 5 * MiB + 3, 'big assembled inside its directory');
  t.equal(statSync(join(server.root, B, 'big', '.sluice-folder')).size, 5 * MiB + 4, 'big/ assembled as folder bytes');

  const deleted = await boto3(
    server,
    `r = s3.delete_objects(Bucket='${B}', Delete={'Objects': [{'Key': 'big'}, {'Key': 'big/'}, {'Key': 'solo'}, {'Key': 'solo/.sluice-object'}]})
print(json.dumps([sorted(d['Key'] for d in r.get('Deleted', [])), [(e['Key'], e['Code']) for e in r.get('Errors', [])]]))`,
  );
  t.same(lastJson(deleted), [['big', 'big/', 'solo'], [['solo/.sluice-object', 'InvalidArgument']]], 'DeleteObjects of both keys; sluice\'s own name refused');
  t.same(filesUnder(join(server.root, B)), ['big/', 'big/part-of-a-prefix', 'solo/', 'solo/x'], 'what was below them stays');
  t.equal(errorCode(await s3(server, 'GET', `/${B}/big`)), 'NoSuchKey');
  t.equal((await s3(server, 'GET', `/${B}/big/part-of-a-prefix`)).text, 'below');
});

t.test('conditional writes see a nested object', async (t) => {
  const server = await fresh(t);
  const first = await putObject(server, B, 'cond', 'v1');
  await putObject(server, B, 'cond/below', 'x');
  t.equal((await s3(server, 'PUT', `/${B}/cond`, { body: 'v2', headers: { 'If-None-Match': '*' } })).status, 412, 'If-None-Match: * refuses, the nested object exists');
  t.equal((await s3(server, 'PUT', `/${B}/cond`, { body: 'v2', headers: { 'If-Match': '"0123456789abcdef0123456789abcdef"' } })).status, 412);
  t.equal((await s3(server, 'PUT', `/${B}/cond`, { body: 'v2', headers: { 'If-Match': String(first.headers.etag) } })).status, 200, 'If-Match of its ETag replaces it');
  t.equal((await s3(server, 'GET', `/${B}/cond`)).text, 'v2');
  await putObject(server, B, 'fresh/below', 'x');
  t.equal((await s3(server, 'PUT', `/${B}/fresh`, { body: 'new', headers: { 'If-None-Match': '*' } })).status, 200, 'If-None-Match: * creates inside a directory');
  t.equal(readFileSync(join(server.root, B, 'fresh', '.sluice-object'), 'utf8'), 'new');
});
