// aws-chunked decoding: signed chunks and unsigned chunks with a trailer, fed in every split.
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { S3Error } from '../errors';
import { AwsChunkedDecoder, type ChunkInfo } from './aws-chunked';

const SIG = (n: number): string => n.toString(16).padStart(2, '0').repeat(32);

/** `<hex>;chunk-signature=<64 hex>\r\n<data>\r\n ... 0;chunk-signature=...\r\n\r\n` */
function signedBody(payloads: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  payloads.forEach((p, i) => parts.push(Buffer.from(`${p.length.toString(16)};chunk-signature=${SIG(i)}\r\n`), p, Buffer.from('\r\n')));
  parts.push(Buffer.from(`0;chunk-signature=${SIG(payloads.length)}\r\n\r\n`));
  return Buffer.concat(parts);
}

/** `<hex>\r\n<data>\r\n ... 0\r\n<trailers>\r\n\r\n` */
function trailerBody(payloads: Buffer[], trailers: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of payloads) parts.push(Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n'));
  parts.push(Buffer.from(`0\r\n${trailers.map((line) => `${line}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

interface Decoded {
  payload: Buffer;
  outputs: Buffer[];
  decoder: AwsChunkedDecoder;
}

async function decode(pieces: Buffer[], decoder = new AwsChunkedDecoder()): Promise<Decoded> {
  const outputs: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      outputs.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(pieces), decoder, sink);
  return { payload: Buffer.concat(outputs), outputs, decoder };
}

async function decodeError(pieces: Buffer[]): Promise<S3Error> {
  const result = await decode(pieces).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(result instanceof S3Error)) throw new Error(`expected an S3Error, got ${String(result)}`);
  return result;
}

/** A small deterministic generator, so a failing split can be reproduced. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function randomSplit(body: Buffer, random: () => number, maxPiece: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; ) {
    const size = 1 + Math.floor(random() * maxPiece);
    pieces.push(body.subarray(i, i + size));
    i += size;
  }
  return pieces;
}

const PAYLOADS = [Buffer.from('hello, '), Buffer.from('aws-chunked\r\n0\r\n'), Buffer.from('world')];
const PAYLOAD = Buffer.concat(PAYLOADS);

t.test('signed chunks: payload, sizes and signatures', async (t) => {
  const body = signedBody(PAYLOADS);
  const { payload, decoder } = await decode([body]);
  t.equal(payload.toString(), 'hello, aws-chunked\r\n0\r\nworld', 'framing-like bytes inside data are data');
  t.same(decoder.chunks, [
    { size: 7, signature: SIG(0) },
    { size: 16, signature: SIG(1) },
    { size: 5, signature: SIG(2) },
    { size: 0, signature: SIG(3) },
  ]);
  t.equal(decoder.trailers.size, 0);
});

t.test('unsigned chunks with a checksum trailer', async (t) => {
  const body = trailerBody(PAYLOADS, ['x-amz-checksum-crc32:AAAAAA==', 'X-Amz-Trailer-Signature: ' + SIG(9)]);
  const { payload, decoder } = await decode([body]);
  t.ok(payload.equals(PAYLOAD));
  t.same(decoder.chunks, [
    { size: 7, signature: undefined },
    { size: 16, signature: undefined },
    { size: 5, signature: undefined },
    { size: 0, signature: undefined },
  ]);
  t.same([...decoder.trailers], [
    ['x-amz-checksum-crc32', 'AAAAAA=='],
    ['x-amz-trailer-signature', SIG(9)],
  ], 'names lower-cased, values trimmed');
});

t.test('an empty payload', async (t) => {
  const signed = await decode([Buffer.from(`0;chunk-signature=${SIG(0)}\r\n\r\n`)]);
  t.equal(signed.payload.length, 0);
  t.same(signed.decoder.chunks, [{ size: 0, signature: SIG(0) }]);
  const trailer = await decode([Buffer.from('0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n')]);
  t.equal(trailer.payload.length, 0);
  t.equal(trailer.decoder.trailers.get('x-amz-checksum-crc32c'), 'AAAAAA==');
});

t.test('every two-piece split and byte by byte give the same result', async (t) => {
  for (const body of [signedBody(PAYLOADS), trailerBody(PAYLOADS, ['x-amz-checksum-sha256:abc='])]) {
    const expected = await decode([body]);
    let failures = 0;
    for (let i = 0; i <= body.length; i++) {
      const { payload, decoder } = await decode([body.subarray(0, i), body.subarray(i)]);
      if (!payload.equals(PAYLOAD) || JSON.stringify(decoder.chunks) !== JSON.stringify(expected.decoder.chunks) ||
        JSON.stringify([...decoder.trailers]) !== JSON.stringify([...expected.decoder.trailers])) failures++;
    }
    t.equal(failures, 0, `all ${body.length + 1} splits`);
    const bytes = await decode(Array.from(body, (b) => Buffer.from([b])));
    t.ok(bytes.payload.equals(PAYLOAD), 'byte by byte');
    t.same(bytes.decoder.chunks, expected.decoder.chunks);
    t.same([...bytes.decoder.trailers], [...expected.decoder.trailers]);
  }
});

t.test('random splits of a large body', async (t) => {
  const random = prng(20240501);
  const payloads = [65536, 1, 8192, 100_000, 3].map((n) => randomBytes(n));
  const whole = Buffer.concat(payloads);
  for (const body of [signedBody(payloads), trailerBody(payloads, ['x-amz-checksum-crc64nvme:AAAAAAAAAAA='])]) {
    for (const maxPiece of [3, 100, 5000, 70_000]) {
      const { payload, decoder } = await decode(randomSplit(body, random, maxPiece));
      t.ok(payload.equals(whole), `pieces up to ${maxPiece} bytes`);
      t.same(decoder.chunks.map((c) => c.size), [65536, 1, 8192, 100_000, 3, 0]);
    }
  }
});

t.test('payload bytes are passed as views of the input, never copied', async (t) => {
  const body = signedBody([randomBytes(1000), randomBytes(2000)]);
  const { outputs } = await decode([body]);
  t.equal(outputs.length, 2);
  for (const out of outputs) t.equal(out.buffer, body.buffer, 'shares the memory of the input');
});

t.test('chunk callbacks see each chunk as it passes', async (t) => {
  const decoder = new AwsChunkedDecoder();
  const seen: string[] = [];
  decoder.onChunkData = (data) => seen.push(`data:${data.toString()}`);
  decoder.onChunkEnd = (chunk: ChunkInfo) => seen.push(`end:${chunk.size}:${chunk.signature?.slice(0, 2)}`);
  const body = signedBody([Buffer.from('abc'), Buffer.from('de')]);
  await decode([body.subarray(0, 45), body.subarray(45)], decoder);
  t.same(seen, ['data:abc', 'end:3:00', 'data:de', 'end:2:01', 'end:0:02']);
});

t.test('lenient endings that real SDKs send', async (t) => {
  const noFinalLine = await decode([Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n')]);
  t.equal(noFinalLine.payload.toString(), 'abc', 'trailers without the final empty line');
  t.equal(noFinalLine.decoder.trailers.get('x-amz-checksum-crc32'), 'AAAAAA==');
  const extraLineEnds = await decode([Buffer.from('3\r\nabc\r\n0\r\n\r\n\r\n')]);
  t.equal(extraLineEnds.payload.toString(), 'abc', 'extra line ends after the end');
  const upperHex = await decode([Buffer.from('A\r\n0123456789\r\n0\r\n\r\n')]);
  t.equal(upperHex.payload.toString(), '0123456789');
});

t.test('malformed framing fails with an S3Error', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['bad hex', 'zz\r\nabc\r\n0\r\n\r\n', /bad chunk size "zz"/],
    ['negative size', '-3\r\nabc\r\n0\r\n\r\n', /bad chunk size/],
    ['0x prefix', '0x3\r\nabc\r\n0\r\n\r\n', /bad chunk size/],
    ['empty size', ';chunk-signature=00\r\nabc\r\n0\r\n\r\n', /bad chunk size/],
    ['an empty line instead of a header', '\r\n3\r\nabc\r\n0\r\n\r\n', /bad chunk size/],
    ['17 hex digits', '00000000000000003\r\nabc\r\n0\r\n\r\n', /bad chunk size/],
    ['size beyond exact integers', 'ffffffffffffffff\r\n', /chunk size too large/],
    ['missing CRLF after data', '3\r\nabcX\r\n0\r\n\r\n', /not followed by CRLF/],
    ['LF alone after data', '3\r\nabc\n0\r\n\r\n', /not followed by CRLF/],
    ['CR then garbage after data', '3\r\nabc\rX0\r\n\r\n', /not followed by CRLF/],
    ['data shorter than its size', '5\r\nabc\r\n0\r\n\r\n', /not followed by CRLF/],
    ['data after the final chunk', '3\r\nabc\r\n0\r\n\r\nxyz', /data after the final chunk/],
    ['a second body after the final chunk', '3\r\nabc\r\n0\r\n\r\n3\r\nabc\r\n0\r\n\r\n', /data after the final chunk/],
    ['a trailer line without a colon', '3\r\nabc\r\n0\r\nnot-a-header\r\n\r\n', /bad trailer line/],
    ['a trailer line with an empty name', '3\r\nabc\r\n0\r\n:value\r\n\r\n', /bad trailer line/],
  ];
  for (const [what, body, message] of cases) {
    const error = await decodeError([Buffer.from(body)]);
    t.equal(error.code, 'InvalidRequest', what);
    t.match(error.message, message, what);
    t.match(error.message, /^Malformed aws-chunked body: /, what);
  }
});

t.test('over-long header line and trailer fail, even when they arrive in small pieces', async (t) => {
  const longHeader = Buffer.from(`3;${'x'.repeat(5000)}\r\nabc\r\n0\r\n\r\n`);
  for (const pieces of [[longHeader], randomSplit(longHeader, prng(7), 64)]) {
    const error = await decodeError(pieces);
    t.equal(error.code, 'InvalidRequest');
    t.match(error.message, /chunk header too long/);
  }
  const noNewline = await decodeError([Buffer.alloc(1 << 20, 0x33)]);
  t.match(noNewline.message, /chunk header too long/, 'a megabyte without a line end');
  const okHeader = await decode([Buffer.from(`3;chunk-signature=${SIG(1)};${'x'.repeat(3000)}\r\nabc\r\n0\r\n\r\n`)]);
  t.equal(okHeader.payload.toString(), 'abc', 'a long but bounded header line is fine');
  const longTrailer = Buffer.from(`0\r\n${Array.from({ length: 400 }, (_, i) => `x-amz-meta-${i}:${'v'.repeat(40)}\r\n`).join('')}\r\n`);
  const error = await decodeError(randomSplit(longTrailer, prng(3), 500));
  t.match(error.message, /trailer too long/);
});

t.test('a body cut anywhere before its final chunk is IncompleteBody', async (t) => {
  const body = signedBody([Buffer.from('abcdef'), Buffer.from('gh')]);
  const finalChunkEnd = body.length - 2; // after `0;chunk-signature=...\r\n`
  let wrong = 0;
  for (let cut = 0; cut < finalChunkEnd; cut++) {
    const result = await decode([body.subarray(0, cut)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    const code = result instanceof S3Error ? result.code : undefined;
    // Cut inside a chunk's data or header: the body ended early. Cut just before the CRLF after data is the same.
    if (code !== 'IncompleteBody') wrong++;
  }
  t.equal(wrong, 0, `every cut in 0..${finalChunkEnd - 1} is IncompleteBody`);
  const cutInTrailer = await decodeError([Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAA')]);
  t.equal(cutInTrailer.code, 'IncompleteBody', 'cut inside a trailer line');
  t.equal((await decodeError([Buffer.alloc(0)])).code, 'IncompleteBody', 'an empty body');
  t.equal((await decodeError([Buffer.from('3\r\nabc\r\n')])).code, 'IncompleteBody', 'no final chunk');
});

t.test('backpressure: a stalled consumer stops the decoder from reading on', async (t) => {
  let produced = 0;
  const payloads = Array.from({ length: 160 }, () => Buffer.alloc(65536, 0x61));
  const body = signedBody(payloads); // 10 MiB of payload
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < body.length; i += 16384) {
        const piece = body.subarray(i, i + 16384);
        produced += piece.length;
        yield piece;
      }
    })(),
  );
  const decoder = new AwsChunkedDecoder();
  const stalled = new Writable({ highWaterMark: 16384, write() {} }); // never calls back
  source.pipe(decoder).pipe(stalled);
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
  t.ok(produced < 4 * 1024 * 1024, `read ${produced} bytes of ${body.length} while the consumer was stalled`);
  t.ok(produced > 0);
  source.destroy();
  decoder.destroy();
  stalled.destroy();
});
