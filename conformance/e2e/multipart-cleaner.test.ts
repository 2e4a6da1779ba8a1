// The cleaner, with a 1 second timeout: an idle upload is aborted and its folder removed within a
// few seconds; uploads that keep receiving parts, or whose one part streams slowly for longer than
// the timeout, stay.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { createBucket, errorCode, objectPath, s3, simpleAuth, startSluice, waitFor, type Sluice } from '../lib/harness';
import { complete, createUpload, partPath, uploadPart } from '../lib/multipart-helpers';

const TIMEOUT_MS = 1000;

let server: Sluice;
t.before(async () => {
  server = await startSluice({ args: ['--multipart-timeout', '1sec', '--multipart-cleaner-retry-delay', '100ms', '--multipart-cleaner-retry-count', '2'] });
  await createBucket(server, 'clean');
});
t.teardown(() => server.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const foldersOf = (id: string): string[] => readdirSync(join(server.root, '.sluice', 'uploads')).filter((n) => n.startsWith(id) && !n.endsWith('.done.json'));
const listParts = (key: string, id: string) => s3(server, 'GET', `${objectPath('clean', key)}?uploadId=${id}`);

t.test('an idle upload is aborted and leaves no folder behind', async (t) => {
  const id = await createUpload(server, 'clean', 'idle');
  await uploadPart(server, 'clean', 'idle', id, 1, Buffer.from('soon forgotten'));
  t.ok(existsSync(join(server.root, '.sluice', 'uploads', id)), 'the upload has its folder');
  const started = Date.now();
  await waitFor(async () => errorCode(await listParts('idle', id)) === 'NoSuchUpload', 'the cleaner to abort the idle upload', 6000);
  const after = Date.now() - started;
  t.ok(after >= TIMEOUT_MS - 100, `not before the timeout (${after} ms)`);
  t.comment(`idle upload gone ${after} ms after its last part`);
  await waitFor(() => foldersOf(id).length === 0, 'the upload folder to be removed', 3000);
  t.same(foldersOf(id), [], 'no folder under .sluice/uploads');
  // The cleaner reports once its sweep is over, a moment after the folder went.
  await waitFor(() => server.output().includes(`cleaner aborted idle multipart upload ${id}`), 'the cleaner to report', 3000);
  t.match(server.output(), new RegExp(`cleaner aborted idle multipart upload ${id}`), 'the cleaner says what it aborted');
  t.equal(errorCode(await complete(server, 'clean', 'idle', id, [{ partNumber: 1 }])), 'NoSuchUpload');
  const uploads = await s3(server, 'GET', '/clean?uploads');
  t.notMatch(uploads.text, id, 'not listed');
});

t.test('an upload that keeps receiving parts is not removed', async (t) => {
  const id = await createUpload(server, 'clean', 'busy');
  const parts: { partNumber: number; etag: string }[] = [];
  // 3.5 s of activity, a part every 350 ms: each gap is well under the 1 s timeout.
  for (let n = 1; n <= 10; n++) {
    parts.push({ partNumber: n, etag: await uploadPart(server, 'clean', 'busy', id, n, Buffer.from(`part ${n}`)) });
    await sleep(350);
    t.equal((await listParts('busy', id)).status, 200, `still there after part ${n}`);
  }
  // The parts are under 5 MiB, so only the last may be small: complete just that one.
  const res = await complete(server, 'clean', 'busy', id, [parts[9]!]);
  t.equal(res.status, 200, res.text);
  t.equal((await s3(server, 'GET', objectPath('clean', 'busy'))).text, 'part 10');
});

t.test('a part that streams for longer than the timeout keeps its upload alive', async (t) => {
  const id = await createUpload(server, 'clean', 'slow');
  const chunks = 12;
  const chunk = Buffer.alloc(1000, 's');
  // One part, trickled over ~2.4 s: the upload gets no new part in all that time.
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, method: 'PUT', path: partPath('clean', 'slow', id, 1), headers: { Authorization: simpleAuth(), 'Content-Length': chunks * chunk.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    let sent = 0;
    const timer = setInterval(() => {
      req.write(chunk);
      if (++sent === chunks) {
        clearInterval(timer);
        req.end();
      }
    }, 200);
  });
  t.equal(status, 200, 'the slow part was stored');
  const list = await listParts('slow', id);
  t.equal(list.status, 200, 'the upload is still there');
  t.match(list.text, `<Size>${chunks * chunk.length}</Size>`);
  await waitFor(async () => errorCode(await listParts('slow', id)) === 'NoSuchUpload', 'the upload to go once idle', 6000);
  t.pass('once idle, it goes too');
});

t.test('leftovers of crashed or finished uploads are swept once older than the timeout', async (t) => {
  const uploads = join(server.root, '.sluice', 'uploads');
  const crashed = join(uploads, '0f0e0d0c-0b0a-4909-8807-060504030201.claimed-deadprocess');
  mkdirSync(join(crashed, 'parts'), { recursive: true });
  writeFileSync(join(crashed, 'parts', '1.00000000000000000000000000000000'), 'orphan');
  const id = await createUpload(server, 'clean', 'finished');
  const etag = await uploadPart(server, 'clean', 'finished', id, 1, Buffer.from('done'));
  t.equal((await complete(server, 'clean', 'finished', id, [{ partNumber: 1, etag }])).status, 200);
  t.ok(existsSync(join(uploads, `${id}.done.json`)), 'the result is recorded for repeated completes');
  await waitFor(() => !existsSync(crashed) && !existsSync(join(uploads, `${id}.done.json`)), 'the leftovers to be swept', 6000);
  t.notOk(existsSync(crashed), 'the folder a dead process was assembling is gone');
  t.notOk(existsSync(join(uploads, `${id}.done.json`)), 'the old result record is gone');
  t.equal((await s3(server, 'GET', objectPath('clean', 'finished'))).text, 'done', 'the completed object stays');
});
