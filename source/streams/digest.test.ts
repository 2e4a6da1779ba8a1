// DigestStream: MD5 and checksums of what passes, and the announced length enforced.
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { S3Error } from '../errors';
import { createChecksum } from './checksums';
import { DigestStream } from './digest';

/** Feeds `pieces` through `digest` and collects what comes out. */
async function run(digest: DigestStream, pieces: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(pieces), digest, sink);
  return Buffer.concat(out);
}

function split(data: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) pieces.push(data.subarray(i, i + size));
  return pieces;
}

t.test('sha1 and sha256 checksums', async (t) => {
  const sha1 = createChecksum('sha1');
  sha1.update(Buffer.from('ab'));
  sha1.update(Buffer.from('c'));
  t.equal(sha1.digest().toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  const sha256 = createChecksum('sha256');
  sha256.update(Buffer.from('a'));
  sha256.update(Buffer.from('bc'));
  t.equal(sha256.digest().toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const empty = createChecksum('sha256');
  t.equal(empty.digest().toString('base64'), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  t.equal(createChecksum('crc32c').digest().toString('hex'), '00000000', 'CRCs come from crc.ts');
});

t.test('MD5, checksums and byte count of what passes; the bytes pass unchanged', async (t) => {
  const data = randomBytes(300_001);
  const digest = new DigestStream({ expectedLength: data.length, checksums: ['crc32', 'sha256', 'crc64nvme'] });
  const out = await run(digest, split(data, 7_777));
  t.ok(out.equals(data), 'output equals input');
  t.equal(digest.bytes, 300_001);
  t.equal(digest.md5Digest().toString('hex'), createHash('md5').update(data).digest('hex'));
  t.equal(digest.checksumDigest('sha256')!.toString('hex'), createHash('sha256').update(data).digest('hex'));
  const crc32 = createChecksum('crc32');
  crc32.update(data);
  t.equal(digest.checksumDigest('crc32')!.toString('hex'), crc32.digest().toString('hex'));
  t.equal(digest.checksumDigest('crc64nvme')!.length, 8);
  t.equal(digest.checksumDigest('crc32c'), undefined, 'a checksum not asked for is undefined');
});

t.test('the MD5 of "hello" and of an empty body', async (t) => {
  const hello = new DigestStream({ expectedLength: 5 });
  await run(hello, [Buffer.from('he'), Buffer.from('llo')]);
  t.equal(hello.md5Digest().toString('hex'), '5d41402abc4b2a76b9719d911017c592');
  const empty = new DigestStream({ expectedLength: 0 });
  await run(empty, []);
  t.equal(empty.bytes, 0);
  t.equal(empty.md5Digest().toString('hex'), 'd41d8cd98f00b204e9800998ecf8427e');
  const unbounded = new DigestStream();
  await run(unbounded, split(Buffer.alloc(10_000, 1), 333));
  t.equal(unbounded.bytes, 10_000, 'without an expected length any size passes');
});

t.test('fewer bytes than announced is IncompleteBody', async (t) => {
  const digest = new DigestStream({ expectedLength: 10 });
  const failure = await run(digest, [Buffer.from('12345'), Buffer.from('6789')]).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(failure, S3Error);
  t.equal((failure as S3Error).code, 'IncompleteBody');
  t.equal((failure as S3Error).status, 400);
  t.equal((failure as S3Error).message, 'The body has 9 bytes; 10 were announced.');
});

t.test('more bytes than announced fails as soon as they show, and nothing past the bound flows', async (t) => {
  const digest = new DigestStream({ expectedLength: 6 });
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  let pulled = 0;
  const source = Readable.from(
    (function* () {
      for (;;) {
        if (++pulled > 100) throw new Error('the stream kept reading after the failure');
        yield Buffer.from('abcd');
      }
    })(),
  );
  const failure = await pipeline(source, digest, sink).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(failure, S3Error);
  t.equal((failure as S3Error).code, 'InvalidRequest');
  t.match((failure as S3Error).message, /longer than the 6 bytes/);
  t.equal(Buffer.concat(out).toString(), 'abcd', 'the piece that crosses the bound is not passed on');
  t.ok(pulled < 100);
});

t.test('exactly the announced length passes', async (t) => {
  const digest = new DigestStream({ expectedLength: 8 });
  const out = await run(digest, [Buffer.from('abcd'), Buffer.from('efgh')]);
  t.equal(out.toString(), 'abcdefgh');
});

t.test('bodies past the inline limit or of unknown length are hashed by worker threads, concurrently and exactly', async (t) => {
  const bodies = [randomBytes(128 * 1024 + 1), randomBytes(5 * 1024 * 1024 + 3), randomBytes(256 * 1024), randomBytes(777_777)];
  const results = await Promise.all(
    bodies.map(async (data, i) => {
      // Every other one without an announced length: the size is not known up front.
      const digest = new DigestStream({ ...(i % 2 === 0 ? { expectedLength: data.length } : {}), checksums: ['crc32c', 'sha256'] });
      const out = await run(digest, split(data, 65_536 - i));
      return { data, out, digest };
    }),
  );
  for (const { data, out, digest } of results) {
    t.ok(out.equals(data), `${data.length} bytes pass unchanged`);
    t.equal(digest.md5Digest().toString('hex'), createHash('md5').update(data).digest('hex'), `MD5 of ${data.length} bytes`);
    t.equal(
      digest.checksumDigest('sha256')!.toString('hex'),
      createHash('sha256').update(data).digest('hex'),
      `SHA-256 of ${data.length} bytes`,
    );
    const crc32c = createChecksum('crc32c');
    crc32c.update(data);
    t.equal(digest.checksumDigest('crc32c')!.toString('hex'), crc32c.digest().toString('hex'), `CRC32C of ${data.length} bytes`);
  }
});

t.test('a hashed body that fails midway leaves the workers serving others', async (t) => {
  const failing = new DigestStream();
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < 20; i++) yield Buffer.alloc(100_000, i);
      throw new Error('the client went away');
    })(),
  );
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  await t.rejects(pipeline(source, failing, sink), /went away/);
  t.ok(failing.destroyed, 'the failed digest is destroyed (its job dropped)');
  const data = randomBytes(1_000_000);
  const next = new DigestStream();
  await run(next, split(data, 50_000));
  t.equal(next.md5Digest().toString('hex'), createHash('md5').update(data).digest('hex'), 'the next body is hashed right');
});
