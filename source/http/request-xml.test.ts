// Request XML: strict parsing, no DOCTYPE or entities, bounded bodies read from real requests.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { S3Error } from './errors';
import { child, childrenNamed, parseXml, readBoundedBody, readXmlBody, type XmlElement } from './request-xml';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof S3Error ? e.code : `not an S3Error: ${String(e)}`;
  }
}

t.test('a DeleteObjects document', async (t) => {
  const root = parseXml(
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n' +
      '  <Object><Key>a&amp;b &lt;c&gt; &#x1F600;&#65;</Key></Object>\n' +
      '  <Object><Key><![CDATA[x<y>]]></Key><VersionId>null</VersionId></Object>\n' +
      '  <Quiet>true</Quiet>\n' +
      '</Delete>',
  );
  t.equal(root.name, 'Delete');
  const objects = childrenNamed(root, 'Object');
  t.equal(objects.length, 2);
  t.equal(child(objects[0]!, 'Key')!.text, 'a&b <c> \u{1f600}A');
  t.equal(child(objects[1]!, 'Key')!.text, 'x<y>');
  t.equal(child(objects[1]!, 'VersionId')!.text, 'null');
  t.equal(child(root, 'Quiet')!.text, 'true');
  t.equal(child(root, 'Missing'), undefined);
  t.same(childrenNamed(root, 'Missing'), []);
});

t.test('text is kept as sent, whitespace included', async (t) => {
  const root = parseXml('<Tagging><TagSet><Tag><Key> k </Key><Value>\n</Value></Tag></TagSet></Tagging>');
  const tag = child(child(root, 'TagSet')!, 'Tag')!;
  t.equal(child(tag, 'Key')!.text, ' k ');
  t.equal(child(tag, 'Value')!.text, '\n');
});

t.test('namespace prefixes are stripped from names', async (t) => {
  const root = parseXml('<s3:CompleteMultipartUpload xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Part><s3:PartNumber>1</s3:PartNumber><ETag>"e"</ETag></s3:Part></s3:CompleteMultipartUpload>');
  const expected: XmlElement = {
    name: 'CompleteMultipartUpload',
    text: '',
    children: [{ name: 'Part', text: '', children: [{ name: 'PartNumber', text: '1', children: [] }, { name: 'ETag', text: '"e"', children: [] }] }],
  };
  t.same(root, expected);
});

t.test('DOCTYPE and entity declarations are MalformedXML', async (t) => {
  const cases = [
    '<!DOCTYPE Delete><Delete/>',
    '<!DOCTYPE Delete [<!ENTITY x "y">]><Delete><Object><Key>&x;</Key></Object></Delete>',
    '<!DOCTYPE Delete SYSTEM "file:///etc/passwd"><Delete/>',
    '<!ENTITY x "y"><Delete/>',
    '<Delete/><!ENTITY x "y">',
    '<Delete>&x;</Delete>',
    '<Delete>&lol9;</Delete>',
  ];
  for (const xml of cases) t.equal(codeOf(() => parseXml(xml)), 'MalformedXML', xml);
});

t.test('truncated, garbage and multi-root documents are MalformedXML', async (t) => {
  const cases = [
    '',
    '   ',
    'garbage',
    '<Delete>',
    '<Delete><Object></Delete>',
    '<Delete><Object>',
    '<Delete></Object></Delete>',
    '<Delete/><Delete/>',
    '<a></a><b></b>',
    '<Delete/>trailing text',
    'leading text<Delete/>',
    '<![CDATA[x]]><Delete/>',
    '<Delete attr=unquoted/>',
    '<1Delete/>',
    '<Delete>&#0;</Delete>',
    '<Delete/>\u0000',
    '<Delete><Object><Key>a\u0001b</Key></Object></Delete>',
    '<Delete><Object><Key>a\u001fb</Key></Object></Delete>',
    '<Delete><Object><Key>\uffff</Key></Object></Delete>',
    '<Delete>&#x1;</Delete>',
    '{"Delete": []}',
  ];
  for (const xml of cases) t.equal(codeOf(() => parseXml(xml)), 'MalformedXML', JSON.stringify(xml));
});

t.test('comments, processing instructions, a BOM and surrounding blanks are fine', async (t) => {
  t.equal(parseXml('\ufeff<?xml version="1.0"?>\n<!-- c --><Delete/><!-- after -->\n').name, 'Delete');
  t.equal(parseXml('  <Delete>  </Delete>  ').text, '  ');
  t.equal(parseXml('<Key>tab\there\r\nline&#xd;</Key>').text, 'tab\there\nline\r', 'tab, CR and LF are legal; a literal CRLF is one LF');
});

/** A server whose handler is given each request; answers what the handler returns. */
async function withServer(t: tap.Test, handler: (req: IncomingMessage) => Promise<string>): Promise<number> {
  const server: Server = createServer((req, res) => {
    handler(req).then(
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

t.test('readBoundedBody reads a body of up to `limit` bytes, UTF-8 split anywhere', async (t) => {
  const port = await withServer(t, (req) => readBoundedBody(req, 12));
  const euro = Buffer.from('\u20ac\u20ac\u20ac\u20ac'); // 12 bytes
  t.same(await send(port, [euro.subarray(0, 1), euro.subarray(1, 5), euro.subarray(5)]), { status: 200, body: '\u20ac\u20ac\u20ac\u20ac' });
  t.same(await send(port, [euro], { 'content-length': '12' }), { status: 200, body: '\u20ac\u20ac\u20ac\u20ac' });
  t.same(await send(port, []), { status: 200, body: '' });
});

t.test('readBoundedBody refuses a declared Content-Length over the limit before reading', async (t) => {
  let flowing: boolean | null | undefined;
  const port = await withServer(t, (req) =>
    readBoundedBody(req, 100).catch((e: unknown) => {
      flowing = req.readableFlowing;
      throw e;
    }),
  );
  const reply = await send(port, [Buffer.alloc(101, 0x61)], { 'content-length': '101' });
  t.same(reply, { status: 400, body: 'MalformedXML: The XML body must not exceed 100 bytes.' });
  t.equal(flowing, null, 'the body was never read');
});

t.test('readBoundedBody refuses a chunked body that grows over the limit, and the client still gets the error', async (t) => {
  const port = await withServer(t, (req) => readBoundedBody(req, 100));
  const reply = await send(port, Array.from({ length: 10 }, () => Buffer.alloc(30, 0x61)));
  t.same(reply, { status: 400, body: 'MalformedXML: The XML body must not exceed 100 bytes.' });
  const exact = await send(port, [Buffer.alloc(60, 0x61), Buffer.alloc(40, 0x62)]);
  t.same(exact, { status: 200, body: 'a'.repeat(60) + 'b'.repeat(40) }, 'exactly the limit is fine');
});

t.test('readXmlBody: parsed tree, MissingRequestBodyError when empty, MalformedXML when bad', async (t) => {
  const port = await withServer(t, async (req) => JSON.stringify(await readXmlBody(req, 1000)));
  const ok = await send(port, [Buffer.from('<Tagging><TagSet/></Tagging>')]);
  t.equal(ok.status, 200);
  t.same(JSON.parse(ok.body), { name: 'Tagging', text: '', children: [{ name: 'TagSet', text: '', children: [] }] });
  t.match(await send(port, []), { status: 400, body: /^MissingRequestBodyError: / });
  t.match(await send(port, [Buffer.from(' \r\n\t ')]), { status: 400, body: /^MissingRequestBodyError: / });
  t.match(await send(port, [Buffer.from('<Tagging>')]), { status: 400, body: /^MalformedXML: / });
  t.match(await send(port, [Buffer.alloc(1001, 0x20)]), { status: 400, body: /^MalformedXML: The XML body must not exceed 1000 bytes/ });
});
