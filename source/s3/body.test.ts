// Small request bodies (the XML documents), read from real requests: bounded, verified, parsed.
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import t from 'tap';
import { S3Error } from '../errors';
import { readSmallBody, readXmlBody, type BodySource } from './body';

/** A server whose handler is given each request; answers what the handler returns. */
async function withServer(t: tap.Test, handler: (source: BodySource) => Promise<string>): Promise<number> {
  const server: Server = createServer((req, res) => {
    const source: BodySource = {
      req,
      res,
      identity: { user: 'tester', admin: true, anonymous: false },
      services: { config: { bodyTimeoutMs: 20_000 } },
      sendContinue: () => undefined,
    };
    handler(source).then(
      (body) => res.end(body),
      (e: unknown) => {
        // As the server's error path does: an unread body closes the connection after the reply.
        if (!req.complete) res.setHeader('Connection', 'close');
        res.statusCode = e instanceof S3Error ? e.status : 500;
        res.end(e instanceof S3Error ? `${e.code}: ${e.message}` : String(e));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

interface Reply {
  status: number;
  body: string;
}

/** Sends `pieces` as the body (chunked unless a content-length is given), one write each. */
function send(port: number, pieces: Buffer[], headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/b?delete', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    let i = 0;
    const writeNext = (): void => {
      if (req.destroyed) return;
      if (i === pieces.length) {
        req.end();
        return;
      }
      req.write(pieces[i++]!);
      setTimeout(writeNext, 2);
    };
    writeNext();
  });
}

t.test('readSmallBody reads a body of up to `limit` bytes, UTF-8 split anywhere', async (t) => {
  const port = await withServer(t, (source) => readSmallBody(source, 12));
  const euro = Buffer.from('\u20ac\u20ac\u20ac\u20ac'); // 12 bytes
  t.same(await send(port, [euro.subarray(0, 1), euro.subarray(1, 5), euro.subarray(5)]), { status: 200, body: '\u20ac\u20ac\u20ac\u20ac' });
  t.same(await send(port, [euro], { 'content-length': '12' }), { status: 200, body: '\u20ac\u20ac\u20ac\u20ac' });
  t.same(await send(port, []), { status: 200, body: '' });
});

t.test('readSmallBody refuses a declared Content-Length over the limit before reading', async (t) => {
  let flowing: boolean | null | undefined;
  const port = await withServer(t, (source) =>
    readSmallBody(source, 100).catch((e: unknown) => {
      flowing = source.req.readableFlowing;
      throw e;
    }),
  );
  const reply = await send(port, [Buffer.alloc(101, 0x61)], { 'content-length': '101' });
  t.same(reply, { status: 400, body: 'MalformedXML: The XML body must not exceed 100 bytes.' });
  t.equal(flowing, null, 'the body was never read');
});

t.test('readSmallBody refuses a chunked body that grows over the limit, and the client still gets the error', async (t) => {
  const port = await withServer(t, (source) => readSmallBody(source, 100));
  const reply = await send(
    port,
    Array.from({ length: 10 }, () => Buffer.alloc(30, 0x61)),
  );
  t.same(reply, { status: 400, body: 'MalformedXML: The XML body must not exceed 100 bytes.' });
  const exact = await send(port, [Buffer.alloc(60, 0x61), Buffer.alloc(40, 0x62)]);
  t.same(exact, { status: 200, body: 'a'.repeat(60) + 'b'.repeat(40) }, 'exactly the limit is fine');
});

t.test('readXmlBody: parsed tree, MissingRequestBodyError when empty, MalformedXML when bad', async (t) => {
  const port = await withServer(t, async (source) => JSON.stringify(await readXmlBody(source, 1000)));
  const ok = await send(port, [Buffer.from('<Tagging><TagSet/></Tagging>')]);
  t.equal(ok.status, 200);
  t.same(JSON.parse(ok.body), { name: 'Tagging', text: '', children: [{ name: 'TagSet', text: '', children: [] }] });
  t.match(await send(port, []), { status: 400, body: /^MissingRequestBodyError: / });
  t.match(await send(port, [Buffer.from(' \r\n\t ')]), { status: 400, body: /^MissingRequestBodyError: / });
  t.match(await send(port, [Buffer.from('<Tagging>')]), { status: 400, body: /^MalformedXML: / });
  t.match(await send(port, [Buffer.alloc(1001, 0x20)]), { status: 400, body: /^MalformedXML: The XML body must not exceed 1000 bytes/ });
});

t.test('readSmallBody: no Content-Length and no chunked encoding is no body', async (t) => {
  const port = await withServer(t, (source) => readSmallBody(source, 100));
  const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    // A raw request, so that the client adds no framing header of its own.
    const socket = connect(port, '127.0.0.1', () => socket.end('POST /b?delete HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () =>
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }),
    );
    socket.on('error', reject);
  });
  t.same(reply, { status: 200, body: '' });
});

t.test('readSmallBody verifies Content-MD5 like any body', async (t) => {
  const port = await withServer(t, (source) => readSmallBody(source, 100));
  const text = Buffer.from('<Delete/>');
  const md5 = (b: Buffer): string => createHash('md5').update(b).digest('base64');
  t.same(await send(port, [text], { 'content-md5': md5(text) }), { status: 200, body: '<Delete/>' });
  t.match(await send(port, [text], { 'content-md5': md5(Buffer.from('other')) }), { status: 400, body: /^BadDigest: / });
});
