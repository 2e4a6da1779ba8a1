// CompleteMultipartUpload's keep-alive, with a 20 ms interval and completes that take longer:
// the 200 header arrives early, whitespace follows, the body still ends with a valid result;
// boto3 and the aws cli accept it; an error found after the header arrives as an Error document in
// the 200 body; and with a pool of one, a second complete waits for the first.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import {
  aws,
  awsJson,
  boto3,
  createBucket,
  lastJson,
  md5OfFile,
  objectPath,
  putObject,
  s3,
  simpleAuth,
  startSluice,
  tempDir,
  waitFor,
  writeRandomFile,
  xmlValue,
  type Sluice,
} from '../lib/harness';
import {
  MiB,
  completeXml,
  createUpload,
  inParallel,
  md5,
  multipartETag,
  partMd5sOfFile,
  patternBytes,
  timedRequest,
  uploadPart,
  type CompletePart,
  type TimedResponse,
} from '../lib/multipart-helpers';

const INTERVAL_MS = 20;
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

let server: Sluice;
t.before(async () => {
  server = await startSluice({ args: ['--complete-keepalive-interval', `${INTERVAL_MS}ms`, '--complete-pool-size', '1'] });
  await createBucket(server, 'alive');
});
t.teardown(() => server.stop());

/** Uploads `count` 5 MiB parts (distinct bytes each); returns the list to complete and the part MD5s. */
async function bigUpload(key: string, count: number): Promise<{ id: string; parts: CompletePart[]; md5s: string[] }> {
  const id = await createUpload(server, 'alive', key);
  const md5s: string[] = [];
  const parts = await inParallel(count, 2, async (i) => {
    const body = patternBytes(5 * MiB, 100 + i);
    md5s[i] = md5(body);
    return { partNumber: i + 1, etag: await uploadPart(server, 'alive', key, id, i + 1, body) };
  });
  return { id, parts, md5s };
}

function completeRequest(key: string, id: string, parts: CompletePart[]): Promise<TimedResponse> {
  return timedRequest(server, 'POST', `${objectPath('alive', key)}?uploadId=${id}`, completeXml(parts));
}

/** The whitespace between the XML declaration and the root element. */
function padding(text: string): string {
  return /^<\?xml[^>]*\?>\n(\s*)</.exec(text)?.[1] ?? '';
}

t.test('raw HTTP: 200 header first, whitespace while assembling, then the result', async (t) => {
  const { id, parts, md5s } = await bigUpload('slow.bin', 24);
  const res = await completeRequest('slow.bin', id, parts);
  t.comment(`header after ${res.headersAt.toFixed(0)} ms, body ended after ${res.endAt.toFixed(0)} ms, ${padding(res.text).length} spaces, ${res.chunks.length} chunks`);
  t.equal(res.status, 200);
  t.ok(res.endAt - res.headersAt >= INTERVAL_MS, 'the header arrived at least one interval before the end');
  t.equal(res.headers['content-length'], undefined, 'no Content-Length: the length was not known when the header left');
  t.ok(res.text.startsWith(DECLARATION), 'the body opens with the XML declaration');
  t.ok(padding(res.text).length >= 1, 'whitespace was sent while the complete ran');
  t.match(padding(res.text), /^ +$/, 'only spaces');
  t.ok(res.chunks.length >= 2, 'the body came in several pieces over time');
  t.match(res.text, /<CompleteMultipartUploadResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">.*<\/CompleteMultipartUploadResult>$/s, 'ends with a whole result');
  t.equal(xmlValue(res.text, 'ETag'), `&quot;${multipartETag(md5s)}&quot;`);
  t.equal(xmlValue(res.text, 'Key'), 'slow.bin');
  t.equal(res.text.match(/<\?xml/g)?.length, 1, 'one XML declaration');
  const head = await s3(server, 'HEAD', objectPath('alive', 'slow.bin'));
  t.equal(head.headers['content-length'], String(24 * 5 * MiB));
  t.equal(head.headers.etag, `"${multipartETag(md5s)}"`);
});

t.test('an error after the header arrives as an Error document in the 200 body', async (t) => {
  // With a pool of one, B waits for A long enough for its keep-alive to start; then the place of
  // B's bytes turns out to be a directory (another program made one there meanwhile).
  const a = await bigUpload('first.bin', 30);
  const b = await bigUpload('conflict', 2);
  let firstEnded = 0;
  const first = completeRequest('first.bin', a.id, a.parts).then((res) => ((firstEnded = performance.now()), res));
  // A holds the pool once its temp file exists (nothing else writes now).
  await waitFor(() => readdirSync(join(server.root, '.sluice', 'tmp')).length > 0, 'A to start assembling', 10_000);
  await putObject(server, 'alive', 'conflict/child', 'I make "conflict" a directory, so its object goes inside');
  mkdirSync(join(server.root, 'alive', 'conflict', '.sluice-object'));
  const second = await completeRequest('conflict', b.id, b.parts);
  const secondEnded = performance.now();
  const firstDone = await first;
  t.equal(firstDone.status, 200);
  t.equal(xmlValue(firstDone.text, 'ETag'), `&quot;${multipartETag(a.md5s)}&quot;`, 'A completes');
  t.equal(second.status, 200, 'B: the 200 header was already out');
  t.ok(second.text.startsWith(DECLARATION));
  t.ok(padding(second.text).length >= 1, 'B: whitespace came first');
  t.match(second.text, /<Error><Code>ExistingObjectIsDirectory<\/Code><Message>[^<]+<\/Message>.*<RequestId>[^<]+<\/RequestId><\/Error>$/s, 'then an Error document');
  t.notMatch(second.text, /CompleteMultipartUploadResult/);
  t.ok(firstEnded > 0 && secondEnded >= firstEnded, 'B ended after A: at most one complete assembles at a time');

  // The failed complete gave the upload back: once the directory is gone, it completes.
  rmSync(join(server.root, 'alive', 'conflict', '.sluice-object'), { recursive: true });
  const retry = await completeRequest('conflict', b.id, b.parts);
  t.equal(retry.status, 200);
  t.equal(xmlValue(retry.text, 'ETag'), `&quot;${multipartETag(b.md5s)}&quot;`, 'the retry completes the upload');
});

t.test('a client that leaves during the keep-alive: the object still completes, a retry gets the result', async (t) => {
  const { id, parts, md5s } = await bigUpload('abandoned.bin', 16);
  const xml = completeXml(parts);
  // Hang up as soon as the first bytes of the answer (the 200 header) arrive.
  const first = await new Promise<string>((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', reject);
    socket.once('data', (d: Buffer) => {
      socket.destroy();
      resolve(d.toString('latin1'));
    });
    socket.write(`POST ${objectPath('alive', 'abandoned.bin')}?uploadId=${id} HTTP/1.1\r\nHost: x\r\nAuthorization: ${simpleAuth()}\r\nContent-Length: ${Buffer.byteLength(xml)}\r\n\r\n${xml}`);
  });
  t.match(first, /^HTTP\/1\.1 200 /, 'the header came; the client hangs up right after');
  t.notMatch(first, /CompleteMultipartUploadResult/, 'before the result');
  await waitFor(async () => (await s3(server, 'HEAD', objectPath('alive', 'abandoned.bin'))).status === 200, 'the object to appear', 30_000);
  const retry = await completeRequest('abandoned.bin', id, parts);
  t.equal(retry.status, 200);
  t.equal(xmlValue(retry.text, 'ETag'), `&quot;${multipartETag(md5s)}&quot;`, 'the retry gets the result of the abandoned complete');
  const head = await s3(server, 'HEAD', objectPath('alive', 'abandoned.bin'));
  t.equal(head.headers['content-length'], String(16 * 5 * MiB));
});

t.test('boto3 and the aws cli complete through the keep-alive', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'in.bin');
  const md5In = await writeRandomFile(file, 64 * MiB + 1000);
  const five = multipartETag(await partMd5sOfFile(file, 5 * MiB));
  const eight = multipartETag(await partMd5sOfFile(file, 8 * MiB));

  const py = lastJson<{ etag: string; size: number }>(
    await boto3(
      server,
      `
from boto3.s3.transfer import TransferConfig
cfg = TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024)
s3.upload_file(${JSON.stringify(file)}, 'alive', 'from-boto3', Config=cfg)
head = s3.head_object(Bucket='alive', Key='from-boto3')
print(json.dumps({'etag': head['ETag'], 'size': head['ContentLength']}))
`,
    ),
  );
  t.equal(py.etag, `"${five}"`, 'boto3: upload_file succeeded with the multipart ETag');
  t.equal(py.size, 64 * MiB + 1000);

  const cp = await aws(server, ['s3', 'cp', file, 's3://alive/from-cli', '--only-show-errors', '--no-progress']);
  t.equal(cp.code, 0, cp.stderr);
  const head = awsJson<{ ETag: string }>(await aws(server, ['s3api', 'head-object', '--bucket', 'alive', '--key', 'from-cli']));
  t.equal(head.ETag, `"${eight}"`, 'aws cli: s3 cp succeeded with the multipart ETag');
  t.equal(await md5OfFile(join(server.root, 'alive', 'from-cli')), md5In);
  t.equal(await md5OfFile(join(server.root, 'alive', 'from-boto3')), md5In);
  // The access log shows "-" for the length of a response whose header left before its length was known.
  t.match(server.output(), /POST \S*\/alive\/from-cli 200 - /, 'the cli\'s complete went through the keep-alive (access log)');
  t.match(server.output(), /POST \S*\/alive\/from-boto3 200 - /, 'so did boto3\'s');
});
