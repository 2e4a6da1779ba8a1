// Upload state lives on disk: repeated and concurrent completes, a complete racing an abort, two
// real sluice processes on one root, and a restart in the middle of an upload.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createBucket, errorCode, objectPath, s3, startSluice, tempDir, waitFor, xmlValue, type Sluice } from '../lib/harness';
import { MiB, complete, createUpload, md5, multipartETag, patternBytes, s3Code, uploadPart, type CompletePart } from '../lib/multipart-helpers';

const PARTS = [patternBytes(5 * MiB, 11), patternBytes(5 * MiB, 12), Buffer.from('end')];
const WHOLE_MD5 = md5(Buffer.concat(PARTS));
const ETAG = multipartETag(PARTS.map(md5));

async function uploadAll(server: Sluice, bucket: string, key: string): Promise<{ id: string; parts: CompletePart[] }> {
  const id = await createUpload(server, bucket, key);
  const parts: CompletePart[] = [];
  for (const [i, body] of PARTS.entries()) parts.push({ partNumber: i + 1, etag: await uploadPart(server, bucket, key, id, i + 1, body) });
  return { id, parts };
}

/** The object's bytes hash to what was uploaded and its ETag is the multipart one. */
async function checkObject(t: Test, server: Sluice, bucket: string, key: string): Promise<void> {
  const got = await s3(server, 'GET', objectPath(bucket, key));
  t.equal(got.status, 200);
  t.equal(md5(got.body), WHOLE_MD5, `${key}: the bytes are the parts in order`);
  t.equal(got.headers.etag, `"${ETAG}"`, `${key}: the multipart ETag`);
}

/** Folders of uploads still in progress (or being assembled) under ROOT/.sluice/uploads. */
function uploadFolders(server: Sluice): string[] {
  return readdirSync(join(server.root, '.sluice', 'uploads')).filter((n) => !n.endsWith('.done.json'));
}

let server: Sluice;
t.before(async () => {
  server = await startSluice();
  await createBucket(server, 'state');
});
t.teardown(() => server.stop());

t.test('completing the same upload twice returns the same result', async (t) => {
  const { id, parts } = await uploadAll(server, 'state', 'twice');
  const first = await complete(server, 'state', 'twice', id, parts);
  t.equal(first.status, 200, first.text);
  t.equal(xmlValue(first.text, 'ETag'), `&quot;${ETAG}&quot;`);
  const second = await complete(server, 'state', 'twice', id, parts);
  t.equal(second.status, 200, second.text);
  for (const name of ['ETag', 'Key', 'Bucket', 'Location']) t.equal(xmlValue(second.text, name), xmlValue(first.text, name), `same ${name}`);
  await checkObject(t, server, 'state', 'twice');
  t.equal(errorCode(await complete(server, 'state', 'other-key', id, parts)), 'NoSuchUpload', 'not through another key');
  // The parts go in the background once the result is recorded.
  await waitFor(() => uploadFolders(server).filter((n) => n.startsWith(id)).length === 0, 'the parts to be removed');
  t.same(uploadFolders(server).filter((n) => n.startsWith(id)), [], 'nothing of the upload is left but its result');
});

t.test('concurrent completes of one upload all get the one result', async (t) => {
  for (let round = 0; round < 3; round++) {
    const key = `concurrent-${round}`;
    const { id, parts } = await uploadAll(server, 'state', key);
    const results = await Promise.all(Array.from({ length: 4 }, () => complete(server, 'state', key, id, parts)));
    for (const res of results) {
      t.equal(res.status, 200, res.text);
      t.equal(s3Code(res), undefined, 'no error in the body');
      t.equal(xmlValue(res.text, 'ETag'), `&quot;${ETAG}&quot;`);
    }
    await checkObject(t, server, 'state', key);
  }
});

t.test('a complete racing an abort: the object is whole, or the upload is cleanly gone', async (t) => {
  const outcomes = new Set<string>();
  // The abort starts before the complete, with it, or a little into its assembly.
  const delays = [-5, 0, 2, 5, 10, 20, 40, 80];
  for (const [round, delay] of delays.entries()) {
    const key = `race-${round}`;
    const { id, parts } = await uploadAll(server, 'state', key);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
    const [done, aborted] = await Promise.all([
      sleep(-delay).then(() => complete(server, 'state', key, id, parts)),
      sleep(delay).then(() => s3(server, 'DELETE', `${objectPath('state', key)}?uploadId=${id}`)),
    ]);
    const completeCode = s3Code(done);
    if (completeCode === undefined) {
      outcomes.add('completed');
      t.equal(errorCode(aborted), 'NoSuchUpload', 'the abort came too late');
      await checkObject(t, server, 'state', key);
    } else {
      outcomes.add('aborted');
      t.equal(completeCode, 'NoSuchUpload', 'the complete came too late');
      t.equal(aborted.status, 204);
      t.equal((await s3(server, 'HEAD', objectPath('state', key))).status, 404, 'no object');
    }
    await waitFor(() => uploadFolders(server).filter((n) => n.startsWith(id)).length === 0, 'the upload folder to go');
    t.same(uploadFolders(server).filter((n) => n.startsWith(id)), [], 'no folder of the upload is left');
  }
  t.comment(`outcomes seen: ${[...outcomes].join(', ')}`);
});

t.test('two sluice processes on one root share uploads', async (t) => {
  const root = tempDir();
  const a = await startSluice({ root });
  const b = await startSluice({ root });
  t.teardown(async () => {
    await a.stop();
    await b.stop();
    rmSync(root, { recursive: true, force: true });
  });
  await createBucket(a, 'shared');
  // Created and uploaded through A, completed through B.
  const { id, parts } = await uploadAll(a, 'shared', 'via-a');
  for (const [name, server] of [['A', a], ['B', b]] as const) {
    const list = await s3(server, 'GET', `${objectPath('shared', 'via-a')}?uploadId=${id}`);
    t.equal(list.status, 200, `ListParts through ${name}`);
    t.equal([...list.text.matchAll(/<Part>/g)].length, PARTS.length, `all parts seen through ${name}`);
    const uploads = await s3(server, 'GET', '/shared?uploads');
    t.equal(xmlValue(uploads.text, 'UploadId'), id, `ListMultipartUploads through ${name}`);
  }
  const done = await complete(b, 'shared', 'via-a', id, parts);
  t.equal(done.status, 200, done.text);
  t.equal(xmlValue(done.text, 'ETag'), `&quot;${ETAG}&quot;`);
  await checkObject(t, a, 'shared', 'via-a');
  t.equal(xmlValue((await complete(a, 'shared', 'via-a', id, parts)).text, 'ETag'), `&quot;${ETAG}&quot;`, 'a repeated complete through A: same result');

  // Parts through both, completed through both at once.
  const mixed = await createUpload(b, 'shared', 'mixed');
  const mixedParts: CompletePart[] = [];
  for (const [i, body] of PARTS.entries()) {
    mixedParts.push({ partNumber: i + 1, etag: await uploadPart(i % 2 === 0 ? a : b, 'shared', 'mixed', mixed, i + 1, body) });
  }
  const both = await Promise.all([complete(a, 'shared', 'mixed', mixed, mixedParts), complete(b, 'shared', 'mixed', mixed, mixedParts)]);
  for (const res of both) t.equal(xmlValue(res.text, 'ETag'), `&quot;${ETAG}&quot;`, 'concurrent completes through A and B: one result');
  await checkObject(t, b, 'shared', 'mixed');

  // An abort through one is seen by the other.
  const aborted = await createUpload(a, 'shared', 'dropped');
  t.equal((await s3(b, 'DELETE', `${objectPath('shared', 'dropped')}?uploadId=${aborted}`)).status, 204);
  t.equal(errorCode(await s3(a, 'GET', `${objectPath('shared', 'dropped')}?uploadId=${aborted}`)), 'NoSuchUpload');
});

t.test('a restart loses nothing: the upload continues after the server comes back', async (t) => {
  const root = tempDir();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const first = await startSluice({ root });
  await createBucket(first, 'restart');
  const id = await createUpload(first, 'restart', 'survivor', { 'Content-Type': 'text/x-survivor', 'x-amz-meta-phase': 'before' });
  const e1 = await uploadPart(first, 'restart', 'survivor', id, 1, PARTS[0]!);
  await first.stop();
  const second = await startSluice({ root });
  t.teardown(() => second.stop());
  const rest: CompletePart[] = [{ partNumber: 1, etag: e1 }];
  for (let i = 1; i < PARTS.length; i++) rest.push({ partNumber: i + 1, etag: await uploadPart(second, 'restart', 'survivor', id, i + 1, PARTS[i]!) });
  const done = await complete(second, 'restart', 'survivor', id, rest);
  t.equal(done.status, 200, done.text);
  await checkObject(t, second, 'restart', 'survivor');
  const head = await s3(second, 'HEAD', objectPath('restart', 'survivor'));
  t.equal(head.headers['content-type'], 'text/x-survivor', 'what CreateMultipartUpload recorded survives too');
  t.equal(head.headers['x-amz-meta-phase'], 'before');
});
