// Key and name safety end to end: `..`/`.` segments in every encoding, `//`, NUL, over-long keys,
// absolute paths, symlinks pointing out of ROOT, keys that clash with the tree's shape, sluice's own
// names. Each gets a clear 4xx S3 error (never a 500), and nothing outside ROOT is ever read, listed
// or changed.
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { boto3, createBucket, errorCode, filesUnder, lastJson, putObject, rawExchange, s3, simpleAuth, startSluice, tempDir, xmlValues, type Sluice } from '../lib/harness';

interface Outside {
  dir: string;
  snapshot(): string;
}

/** A directory beside ROOT holding a secret; its snapshot (names, sizes, mtimes, bytes) must never change. */
function outsideOf(base: string): Outside {
  const dir = join(base, 'outside');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
  writeFileSync(join(dir, 'sub', 'x'), 'sub secret');
  return {
    dir,
    snapshot: () =>
      filesUnder(dir)
        .map((p) => {
          const stats = statSync(join(dir, p));
          return `${p}:${stats.size}:${stats.mtimeMs}:${p.endsWith('/') ? '' : readFileSync(join(dir, p), 'utf8')}`;
        })
        .join('\n'),
  };
}

async function start(): Promise<{ server: Sluice; outside: Outside }> {
  const base = tempDir();
  const outside = outsideOf(base);
  const server = await startSluice({ root: join(base, 'root') });
  return { server, outside };
}

/** Sends a request line exactly as written (http clients would normalize `..` and `//`). */
async function rawLine(server: Sluice, method: string, target: string, body = ''): Promise<{ status: number | undefined; text: string }> {
  const head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${simpleAuth()}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return rawExchange(server, [head + body], { close: 'none', headOnly: method === 'HEAD' });
}

t.test('paths that try to leave the bucket or ROOT', async (t) => {
  const { server, outside } = await start();
  t.teardown(() => server.stop());
  await createBucket(server, 'keys');
  await createBucket(server, 'other');
  await putObject(server, 'other', 'victim.txt', 'victim');
  const before = outside.snapshot();

  const targets = [
    '/keys/../outside/secret.txt',
    '/keys/a/../../outside/secret.txt',
    '/keys/%2e%2e/outside/secret.txt',
    '/keys/%2E%2E/%2e%2e/outside/secret.txt',
    '/keys/a%2f..%2f..%2f..%2foutside%2fsecret.txt',
    '/keys/..%2fother%2fvictim.txt',
    '/keys/%2e%2e%2fother/victim.txt',
    '/keys/./x',
    '/keys/a/./x',
    '/keys/%2e/x',
    '/keys//etc/passwd',
    '/keys/a//b',
    '/keys/%2Fetc%2Fpasswd',
    '/keys/a%00b',
    '/keys/a/%00/b',
    `/keys/${'k'.repeat(1025)}`,
    `/keys/${encodeURIComponent('é'.repeat(513))}`,
    `/keys/${'s'.repeat(256)}`,
    '/api/v1/s3/keys/%2e%2e/%2e%2e/outside/secret.txt',
  ];
  const buckets = ['/%2e%2e/outside/secret.txt', '/..%2f..%2foutside/secret.txt', '/.sluice/secret', '/%2esluice/tmp', '/keys%2f..%2fother/victim.txt', '/.sluice?list-type=2'];
  for (const target of [...targets, ...buckets]) {
    for (const method of ['GET', 'PUT', 'DELETE', 'HEAD']) {
      const res = await rawLine(server, method, target, method === 'PUT' ? 'overwrite' : '');
      t.ok(res.status !== undefined && res.status >= 400 && res.status < 500, `${method} ${target.slice(0, 60)}: 4xx (${res.status})`);
      if (method !== 'HEAD') t.match(res.text, /<Code>(InvalidArgument|InvalidBucketName|KeyTooLongError|InvalidURI|NoSuchBucket)<\/Code>/, `${method} ${target.slice(0, 60)}: an S3 error`);
    }
  }
  t.equal(outside.snapshot(), before, 'nothing outside ROOT was touched');
  t.equal(readFileSync(join(server.root, 'other', 'victim.txt'), 'utf8'), 'victim', 'no other bucket was touched');
  t.same(filesUnder(join(server.root, 'keys')), [], 'nothing was written in the bucket');

  // What looks odd but is a plain name is fine.
  for (const key of ['a..b', '..foo', 'foo..', '...', 'a.b/.c', 'back\\slash', 'x%2e%2e']) {
    t.equal((await putObject(server, 'keys', key, key)).status, 200, `${key} is an ordinary key`);
    t.equal((await s3(server, 'GET', `/keys/${key.split('/').map(encodeURIComponent).join('/')}`)).text, key);
  }
  const longest = `${'k'.repeat(255)}/${'k'.repeat(255)}/${'k'.repeat(255)}/${'k'.repeat(256)}`;
  t.equal(Buffer.byteLength(longest), 1024);
  const edge = await s3(server, 'PUT', `/keys/${longest}`, { body: 'long' });
  t.not(edge.status, 500, 'a 1024-byte key is no server error');
  t.ok(edge.status === 200 || errorCode(edge) === 'KeyTooLongError', 'it is stored, or refused as too long for the filesystem');

  // boto3 sends what its users give it; the server must still hold the line.
  const result = lastJson<Record<string, string>>(
    await boto3(
      server,
      `
out = {}
for name, key in [('dotdot', '../outside/secret.txt'), ('abs', '/etc/passwd'), ('long', 'x' * 1100), ('dot', 'a/./b')]:
    try:
        s3.put_object(Bucket='keys', Key=key, Body=b'evil')
        out[name] = 'stored'
    except botocore.exceptions.ClientError as e:
        out[name] = e.response['Error']['Code']
print(json.dumps(out))
`,
    ),
  );
  t.equal(result.long, 'KeyTooLongError');
  for (const name of ['dotdot', 'abs', 'dot']) t.not(result[name], 'stored', `boto3 key ${name} is refused`);
  t.equal(outside.snapshot(), before, 'still nothing outside ROOT was touched');
});

t.test('symlinks inside ROOT that point outside it', async (t) => {
  const { server, outside } = await start();
  t.teardown(() => server.stop());
  await createBucket(server, 'links');
  await putObject(server, 'links', 'real.txt', 'inside');
  symlinkSync(outside.dir, join(server.root, 'links', 'dirlink'));
  symlinkSync(join(outside.dir, 'secret.txt'), join(server.root, 'links', 'filelink'));
  symlinkSync(join(server.root, 'links', 'real.txt'), join(server.root, 'links', 'innerlink'));
  symlinkSync(join(server.root, '.sluice'), join(server.root, 'links', 'internal'));
  symlinkSync(outside.dir, join(server.root, 'evil-bucket'));
  const before = outside.snapshot();

  for (const key of ['dirlink/secret.txt', 'dirlink/sub/x', 'filelink', 'internal/secret']) {
    const get = await s3(server, 'GET', `/links/${key}`);
    t.ok(get.status === 403 || get.status === 404, `GET ${key}: 403 or 404 (${get.status})`);
    t.notMatch(get.text, /TOP SECRET|sub secret/, `GET ${key}: no secret bytes`);
    t.ok(errorCode(get), `GET ${key}: an S3 error`);
    for (const [method, path, body] of [
      ['PUT', `/links/${key}`, 'overwrite'],
      ['PUT', `/links/${key}?tagging`, '<Tagging><TagSet/></Tagging>'],
      ['GET', `/links/${key}?tagging`, undefined],
      ['DELETE', `/links/${key}?tagging`, undefined],
      ['DELETE', `/links/${key}`, undefined],
    ] as const) {
      const res = await s3(server, method, path, body === undefined ? {} : { body });
      t.not(res.status, 500, `${method} ${path}: no server error`);
    }
    const copy = await s3(server, 'PUT', '/links/copied.txt', { headers: { 'x-amz-copy-source': `/links/${key}` } });
    t.ok(copy.status >= 400 && copy.status < 500, `copying from ${key} is refused`);
  }
  for (const key of ['dirlink/new.txt', 'dirlink/newdir/deep.txt', 'dirlink/sub/more/deep.txt', 'dirlink/folder/', 'internal/planted']) {
    const res = await s3(server, 'PUT', `/links/${key}`, { body: '' });
    t.ok(res.status >= 400 && res.status < 500, `no write through a link out: ${key} (${res.status})`);
  }
  t.equal((await s3(server, 'PUT', '/links/copied2.txt', { headers: { 'x-amz-copy-source': '/links/innerlink' } })).status, 200, 'a link inside ROOT is served');
  t.equal((await s3(server, 'GET', '/links/innerlink')).text, 'inside');
  t.equal(outside.snapshot(), before, 'nothing outside ROOT was read into an answer or changed');
  for (const made of ['new.txt', 'newdir', 'sub/more', 'folder']) t.notOk(existsSync(join(outside.dir, made)), `nothing was made outside: ${made}`);
  t.notOk(existsSync(join(server.root, '.sluice', 'planted')));

  const listed = await s3(server, 'GET', '/links?list-type=2');
  const keys = xmlValues(listed.text, 'Key');
  t.notOk(keys.some((k) => k.startsWith('dirlink') || k === 'filelink' || k.startsWith('internal')), `links out are not listed (${keys.join(', ')})`);
  t.ok(keys.includes('innerlink'), 'a link to a file inside ROOT is listed');
  t.same(xmlValues((await s3(server, 'GET', '/links?list-type=2&prefix=dirlink/')).text, 'Key'), [], 'not even under their own prefix');
  t.same(xmlValues((await s3(server, 'GET', '/links?list-type=2&prefix=internal/')).text, 'Key'), []);

  t.equal(errorCode(await s3(server, 'GET', '/evil-bucket?list-type=2')), 'NoSuchBucket', 'a bucket that links out does not exist');
  // Nor can a link in it lead back in: reading through it would bypass the real bucket's owner.
  symlinkSync(join(server.root, 'links', 'real.txt'), join(outside.dir, 'back-in'));
  for (const method of ['GET', 'HEAD']) {
    const res = await s3(server, method, '/evil-bucket/back-in');
    t.equal(res.status, 404, `${method} through a bucket that links out and back in: 404`);
    if (method === 'GET') t.equal(errorCode(res), 'NoSuchBucket');
  }
  const copiedBack = await s3(server, 'PUT', '/links/back.txt', { headers: { 'x-amz-copy-source': '/evil-bucket/back-in' } });
  t.equal(errorCode(copiedBack), 'NoSuchBucket', 'nor is it a copy source');
  unlinkSync(join(outside.dir, 'back-in'));
  for (const bucket of ['evil-bucket:made', 'links:dirlink:made', 'links:internal:made']) {
    const res = await s3(server, 'PUT', `/${bucket}`);
    t.equal(res.status, 404, `no sub-directory bucket through a link out: ${bucket}`);
    t.equal(errorCode(res), 'NoSuchBucket');
  }
  t.notOk(existsSync(join(outside.dir, 'made')), 'nothing was made outside');
  t.notOk(existsSync(join(outside.dir, 'dirlink')));
  t.notOk(existsSync(join(server.root, '.sluice', 'made')), 'nor in .sluice');
  for (const prefix of ['../', '../outside/', 'a/../../', '/', 'dirlink/../../']) {
    const res = await s3(server, 'GET', `/links?list-type=2&prefix=${encodeURIComponent(prefix)}`);
    t.equal(res.status, 200);
    t.same(xmlValues(res.text, 'Key'), [], `a prefix ${prefix} lists nothing`);
  }
  t.equal(errorCode(await s3(server, 'GET', '/evil-bucket/secret.txt')), 'NoSuchBucket');
  t.equal((await s3(server, 'PUT', '/evil-bucket/planted', { body: 'x' })).status, 404);
  t.equal(errorCode(await s3(server, 'DELETE', '/evil-bucket')), 'NoSuchBucket');
  t.notMatch((await s3(server, 'GET', '/', { user: null })).text, /evil-bucket/, 'nor is it listed');
  t.equal(outside.snapshot(), before, 'nothing outside ROOT changed');
});

t.test('keys that clash with the shape of the tree', async (t) => {
  const { server } = await start();
  t.teardown(() => server.stop());
  await createBucket(server, 'shape');
  await putObject(server, 'shape', 'file', 'a file');
  await putObject(server, 'shape', 'dir/inner.txt', 'inner');

  // A key below an object, and an object named like a directory: both keys live (see nested-keys.test.ts).
  t.equal((await s3(server, 'PUT', '/shape/file/child', { body: 'x' })).status, 200, 'a key below an object is written');
  t.equal(readFileSync(join(server.root, 'shape', 'file', '.sluice-object'), 'utf8'), 'a file', 'the object moved inside its directory');
  t.equal((await s3(server, 'GET', '/shape/file')).text, 'a file', 'and is still read by its key');
  t.equal((await s3(server, 'GET', '/shape/file/child')).text, 'x');
  t.equal((await s3(server, 'PUT', '/shape/dir', { body: 'x' })).status, 200, 'an object where a directory is');
  t.equal(readFileSync(join(server.root, 'shape', 'dir', 'inner.txt'), 'utf8'), 'inner', 'the directory is intact');
  t.equal((await s3(server, 'GET', '/shape/dir')).text, 'x');

  // What still cannot be: a link to a file where a directory must be, a foreign directory where an object's bytes go.
  symlinkSync(join(server.root, 'shape', 'dir', 'inner.txt'), join(server.root, 'shape', 'link'));
  const belowLink = await s3(server, 'PUT', '/shape/link/child', { body: 'x' });
  t.equal(belowLink.status, 409, 'a key below a link to a file: 409');
  t.equal(errorCode(belowLink), 'ObjectParentIsFile');
  mkdirSync(join(server.root, 'shape', 'odd', '.sluice-object'), { recursive: true });
  const onOdd = await s3(server, 'PUT', '/shape/odd', { body: 'x' });
  t.equal(onOdd.status, 409, 'an object whose place is a directory made by another program: 409');
  t.equal(errorCode(onOdd), 'ExistingObjectIsDirectory');
  const copyOnOdd = await s3(server, 'PUT', '/shape/odd', { headers: { 'x-amz-copy-source': '/shape/file' } });
  t.equal(copyOnOdd.status, 409, 'a copy onto it: 409');
  t.equal(errorCode(await s3(server, 'GET', '/shape/odd')), 'NoSuchKey');
  t.equal((await s3(server, 'DELETE', '/shape/odd')).status, 204, 'deleting it is a no-op');

  // sluice's own names are never keys.
  for (const key of ['file/.sluice-object', 'dir/.sluice-folder', '.sluice-object', 'a/.sluice-tmp.x/b', 'x/.sluice-folder/']) {
    for (const method of ['PUT', 'GET', 'DELETE']) {
      const res = await s3(server, method, `/shape/${key}`, method === 'PUT' ? { body: 'x' } : {});
      t.equal(errorCode(res), 'InvalidArgument', `${method} ${key}: InvalidArgument`);
    }
  }
  t.same(filesUnder(join(server.root, '.sluice', 'tmp')), [], 'no temp file is left');
  t.same(
    filesUnder(join(server.root, 'shape')),
    ['dir/', 'dir/.sluice-object', 'dir/inner.txt', 'file/', 'file/.sluice-object', 'file/child', 'link', 'odd/', 'odd/.sluice-object/'],
    'the tree holds what was written and nothing else',
  );
});
