// Slow clients: a connection that never finishes its headers is closed after --headers-timeout,
// and a body that stops arriving (small XML bodies too) fails after --body-timeout, both with a RequestTimeout, while
// well-behaved clients (however slow, while they keep sending) are served meanwhile.
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { s3, startSluice } from '../lib/harness';

t.test('headers that never finish', async (t) => {
  const server = await startSluice({ args: ['--headers-timeout', '1500ms', '--access-log=false'] });
  t.teardown(() => server.stop());
  const started = Date.now();
  const outcome = await new Promise<{ closedAfterMs: number; response: string }>((resolve) => {
    let response = '';
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      // One byte a while, never the blank line that ends the headers.
      const drip = setInterval(() => socket.write('a'), 200);
      socket.on('close', () => clearInterval(drip));
    });
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.on('error', () => undefined);
    const giveUp = setTimeout(() => socket.destroy(), 15_000);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, response });
    });
  });
  t.ok(outcome.closedAfterMs < 6000, `the server closed the connection after ${outcome.closedAfterMs} ms`);
  t.ok(outcome.closedAfterMs >= 1400, 'not before the timeout');
  t.match(outcome.response, /^HTTP\/1\.1 408|RequestTimeout/, 'with a request timeout answer');
  t.equal((await s3(server, 'GET', '/')).status, 200, 'other clients are served');
});

/** Sends `head`, then `drip` bytes one every `everyMs`; resolves with what came back and when the socket closed. */
function dripBody(port: number, head: string, drip: number, everyMs: number): Promise<{ closedAfterMs: number; response: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let response = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent++ < drip) socket.write('d');
      }, everyMs);
      socket.on('close', () => clearInterval(timer));
    });
    socket.on('data', (d: Buffer) => {
      response += d.toString();
      if (/\r\n\r\n[\s\S]*<\/Error>|\r\n\r\n$/.test(response) && /^HTTP\/1\.1 200/.test(response)) socket.end();
    });
    socket.on('error', () => undefined);
    const giveUp = setTimeout(() => socket.destroy(), 15_000);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, response });
    });
  });
}

t.test('a body that stops arriving', async (t) => {
  const server = await startSluice({ args: ['--body-timeout', '1500ms', '--access-log=false'] });
  t.teardown(() => server.stop());
  await s3(server, 'PUT', '/slow');
  const head = (key: string, length: number): string =>
    `PUT /slow/${key} HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testuser/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x\r\nContent-Length: ${length}\r\n\r\n`;
  // 100 bytes of 1000, then nothing.
  const stalled = await dripBody(server.port, head('stalled', 1000) + 'x'.repeat(100), 0, 1000);
  t.match(stalled.response, /^HTTP\/1\.1 400/, 'answered 400');
  t.match(stalled.response, /<Code>RequestTimeout<\/Code>/, 'with RequestTimeout');
  t.ok(stalled.closedAfterMs >= 1400 && stalled.closedAfterMs < 6000, `after the body timeout (${stalled.closedAfterMs} ms)`);
  t.equal((await s3(server, 'GET', '/slow/stalled')).status, 404, 'nothing was stored');
  t.same(readdirSync(join(server.root, '.sluice', 'tmp')), [], 'no temp file is left');
  // A slow client that keeps sending is not cut off: 8 bytes, one every 500 ms (4 s in all).
  const steady = await dripBody(server.port, head('steady', 8), 8, 500);
  t.match(steady.response, /^HTTP\/1\.1 200/, `a steady trickle is stored (${steady.closedAfterMs} ms)`);
  t.equal((await s3(server, 'GET', '/slow/steady')).text, 'dddddddd');
});

t.test('a small XML body that stops arriving (CompleteMultipartUpload, PutObjectTagging)', async (t) => {
  const server = await startSluice({ args: ['--body-timeout', '1sec', '--access-log=false'] });
  t.teardown(() => server.stop());
  await s3(server, 'PUT', '/xml');
  await s3(server, 'PUT', '/xml/tagged', { body: 'x' });
  const created = await s3(server, 'POST', '/xml/mp?uploads');
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1] ?? '';
  const auth = 'Authorization: AWS4-HMAC-SHA256 Credential=testuser/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x';
  const cases: [string, string, string][] = [
    ['CompleteMultipartUpload', `POST /xml/mp?uploadId=${uploadId}`, '<CompleteMultipartUpload><Part><PartNumber>1</Part'],
    ['PutObjectTagging', 'PUT /xml/tagged?tagging', '<Tagging><TagSet><Tag><Key>a</Key>'],
  ];
  for (const [action, line, start] of cases) {
    // The start of the document, then nothing of the 500 bytes announced.
    const head = `${line} HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Length: 500\r\n\r\n`;
    const stalled = await dripBody(server.port, head + start, 0, 1000);
    t.match(stalled.response, /^HTTP\/1\.1 400/, `${action}: answered 400`);
    t.match(stalled.response, /<Code>RequestTimeout<\/Code>/, `${action}: RequestTimeout`);
    t.ok(stalled.closedAfterMs >= 900 && stalled.closedAfterMs < 6000, `${action}: after the body timeout (${stalled.closedAfterMs} ms)`);
  }
  const parts = await s3(server, 'GET', `/xml/mp?uploadId=${uploadId}`);
  t.equal(parts.status, 200, 'the upload is still in progress');
  t.notMatch((await s3(server, 'GET', '/xml/tagged?tagging')).text, /<Key>a<\/Key>/, 'no tag was set');
});
