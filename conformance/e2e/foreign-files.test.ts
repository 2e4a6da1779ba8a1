// Files made by other programs, without sidecar metadata: served with a type from their extension
// and a stable ETag that no client takes for an MD5; and after another program rewrites a file
// sluice wrote, the old metadata is never applied to the new bytes.
import { appendFileSync, mkdirSync, readFileSync, renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aws, boto3, createBucket, lastJson, md5Hex, putObject, s3, startSluice, tempDir, xmlValue, xmlValues } from '../lib/harness';

const FOREIGN_ETAG = /^"[0-9a-f]{32}-1"$/;

t.test('files written by other programs are served', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'shared');
  const dir = join(server.root, 'shared');
  mkdirSync(join(dir, 'reports', '2024'), { recursive: true });
  writeFileSync(join(dir, 'reports', '2024', 'q1.pdf'), '%PDF-1.4 fake');
  writeFileSync(join(dir, 'data.json'), '{"a":1}');
  writeFileSync(join(dir, 'page.html'), '<html></html>');
  writeFileSync(join(dir, 'no-extension'), 'plain');

  const types: [string, string][] = [
    ['reports/2024/q1.pdf', 'application/pdf'],
    ['data.json', 'application/json'],
    ['page.html', 'text/html'],
    ['no-extension', 'application/octet-stream'],
  ];
  for (const [key, type] of types) {
    const res = await s3(server, 'GET', `/shared/${key}`);
    t.equal(res.status, 200, `${key} is served`);
    t.equal(res.text, readFileSync(join(dir, key), 'utf8'));
    t.equal(res.headers['content-type'], type, `${key}: Content-Type from the extension`);
    t.match(res.headers.etag ?? '', FOREIGN_ETAG, `${key}: the ETag is no 32-hex MD5, it ends in -1`);
    t.not(res.headers.etag, `"${md5Hex(res.body)}"`);
    t.equal((await s3(server, 'HEAD', `/shared/${key}`)).headers.etag, res.headers.etag, `${key}: the ETag is stable`);
  }
  const listed = await s3(server, 'GET', '/shared?list-type=2');
  t.same(xmlValues(listed.text, 'Key'), ['data.json', 'no-extension', 'page.html', 'reports/', 'reports/2024/', 'reports/2024/q1.pdf'], 'listed, directories included');
  const head = await s3(server, 'HEAD', '/shared/data.json');
  t.ok(listed.text.includes(`<Key>data.json</Key><LastModified>${new Date(head.headers['last-modified']!).toISOString().slice(0, 19)}`), 'LastModified is the file mtime');
  t.match(listed.text, new RegExp(`<Key>data.json</Key><LastModified>[^<]+</LastModified><ETag>${head.headers.etag!.replace(/"/g, '&quot;')}</ETag>`), 'the listing shows the same ETag');
  const etag = head.headers.etag!;
  t.equal((await s3(server, 'GET', '/shared/data.json', { headers: { 'If-None-Match': etag } })).status, 304, 'the tag works in conditions');
  t.equal((await s3(server, 'GET', '/shared/data.json', { headers: { 'If-Match': etag } })).status, 200);
  t.equal((await s3(server, 'GET', '/shared/data.json', { headers: { Range: 'bytes=1-3' } })).text, '"a"');

  // Clients that verify ETags as MD5s must accept these (the -1 marks a multipart-style tag).
  const result = lastJson<Record<string, string>>(
    await boto3(
      server,
      `
r = s3.get_object(Bucket='shared', Key='reports/2024/q1.pdf')
s3.download_file('shared', 'data.json', ${JSON.stringify(join(tempDir(), 'dl.json'))})
print(json.dumps({'body': r['Body'].read().decode(), 'etag': r['ETag']}))
`,
    ),
  );
  t.equal(result.body, '%PDF-1.4 fake', 'boto3 reads a foreign file');
  t.match(result.etag, FOREIGN_ETAG);
  const out = join(tempDir(), 'cli.html');
  const cp = await aws(server, ['s3', 'cp', 's3://shared/page.html', out]);
  t.equal(cp.code, 0, cp.stderr);
  t.equal(readFileSync(out, 'utf8'), '<html></html>', 'aws s3 cp downloads a foreign file');

  // The tag changes when the file does.
  appendFileSync(join(dir, 'data.json'), '\n');
  const changed = await s3(server, 'HEAD', '/shared/data.json');
  t.not(changed.headers.etag, etag, 'another write changes the ETag');
  t.match(changed.headers.etag ?? '', FOREIGN_ETAG);
  utimesSync(join(dir, 'data.json'), new Date(), new Date(Date.now() - 86400_000));
  t.not((await s3(server, 'HEAD', '/shared/data.json')).headers.etag, changed.headers.etag, 'so does a new mtime');

  // A directory another program made is a bucket of the server's user.
  mkdirSync(join(server.root, 'made-by-hand'));
  writeFileSync(join(server.root, 'not-a-bucket.txt'), 'x');
  mkdirSync(join(server.root, '.hidden'));
  const buckets = await s3(server, 'GET', '/', { user: null });
  t.same(xmlValues(buckets.text, 'Name'), ['made-by-hand'], "the server's user owns hand-made buckets; files and dot-directories are no buckets");
  t.equal((await s3(server, 'HEAD', '/made-by-hand')).status, 200, 'others may look at it (the umask default, 0755)');
  t.equal((await s3(server, 'PUT', '/made-by-hand/k', { body: 'v' })).status, 403, 'but not write in it');
  t.equal((await s3(server, 'PUT', '/made-by-hand/k', { body: 'v', user: null })).status, 200, 'its owner, the server user, does');
  t.equal(readFileSync(join(server.root, 'made-by-hand', 'k'), 'utf8'), 'v');
});

t.test("another program's rewrite never inherits sluice's metadata", async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'rewrites');
  const dir = join(server.root, 'rewrites');
  const headers = { 'Content-Type': 'text/x-custom', 'x-amz-meta-origin': 'sluice', 'x-amz-tagging': 'a=1', 'Content-Disposition': 'inline' };
  const original = 'original content';

  const check = async (key: string, what: string, expectedBody: string): Promise<void> => {
    const res = await s3(server, 'GET', `/rewrites/${key}`);
    t.equal(res.text, expectedBody, `${what}: the new bytes are served`);
    t.match(res.headers.etag ?? '', FOREIGN_ETAG, `${what}: a foreign ETag, not the old MD5`);
    t.not(res.headers.etag, `"${md5Hex(original)}"`);
    t.equal(res.headers['content-type'], 'text/plain', `${what}: the type comes from the extension again`);
    t.equal(res.headers['x-amz-meta-origin'], undefined, `${what}: the old user metadata is gone`);
    t.equal(res.headers['content-disposition'], undefined, `${what}: the old content headers are gone`);
    t.equal(res.headers['x-amz-tagging-count'], undefined, `${what}: the old tags are gone`);
    const listed = await s3(server, 'GET', `/rewrites?list-type=2&prefix=${key}`);
    t.equal(xmlValue(listed.text, 'ETag'), res.headers.etag!.replace(/"/g, '&quot;'), `${what}: the listing agrees`);
    t.equal(xmlValue(listed.text, 'Size'), String(Buffer.byteLength(expectedBody)));
  };

  // In place, another length.
  await putObject(server, 'rewrites', 'inplace.txt', original, headers);
  t.equal((await s3(server, 'HEAD', '/rewrites/inplace.txt')).headers['x-amz-meta-origin'], 'sluice', 'sluice metadata while the file is its own');
  writeFileSync(join(dir, 'inplace.txt'), 'rewritten by an editor');
  await check('inplace.txt', 'rewritten in place', 'rewritten by an editor');

  // In place, the same length (only the mtime tells).
  await putObject(server, 'rewrites', 'samesize.txt', original, headers);
  await new Promise((r) => setTimeout(r, 20));
  writeFileSync(join(dir, 'samesize.txt'), 'ORIGINAL CONTENT');
  await check('samesize.txt', 'rewritten with the same size', 'ORIGINAL CONTENT');

  // Replaced by a new file renamed over it (what most editors and rsync do).
  await putObject(server, 'rewrites', 'renamed.txt', original, headers);
  writeFileSync(join(dir, '.tmp-editor'), 'replaced by rename');
  renameSync(join(dir, '.tmp-editor'), join(dir, 'renamed.txt'));
  await check('renamed.txt', 'replaced by rename', 'replaced by rename');

  // Deleted and written again.
  await putObject(server, 'rewrites', 'recreated.txt', original, headers);
  unlinkSync(join(dir, 'recreated.txt'));
  t.equal((await s3(server, 'GET', '/rewrites/recreated.txt')).status, 404, 'a file another program deleted is gone');
  writeFileSync(join(dir, 'recreated.txt'), 'recreated');
  await check('recreated.txt', 'deleted and recreated', 'recreated');

  // sluice takes it back: a new PUT records fresh metadata.
  await putObject(server, 'rewrites', 'inplace.txt', 'mine again', { 'x-amz-meta-origin': 'again' });
  const back = await s3(server, 'HEAD', '/rewrites/inplace.txt');
  t.equal(back.headers.etag, `"${md5Hex('mine again')}"`);
  t.equal(back.headers['x-amz-meta-origin'], 'again');
});
