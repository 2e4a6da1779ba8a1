// CRC32, CRC32C and CRC-64/NVME against published check values and a bit-by-bit reference, and
// combined CRCs against the CRC of the whole data.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { combineCrc, createCrc, createPortableCrc32, type Checksum } from './crc';

const CHECK = Buffer.from('123456789');

/** The textbook bit-at-a-time reflected CRC: slow, obviously right, independent of the tables. */
function referenceCrc(data: Buffer, width: 32 | 64, reflectedPoly: bigint): bigint {
  const mask = (1n << BigInt(width)) - 1n;
  let crc = mask;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ reflectedPoly : crc >> 1n;
  }
  return crc ^ mask;
}
const REFERENCE = {
  crc32: (data: Buffer) => referenceCrc(data, 32, 0xedb88320n),
  crc32c: (data: Buffer) => referenceCrc(data, 32, 0x82f63b78n),
  crc64nvme: (data: Buffer) => referenceCrc(data, 64, 0x9a6c9329ac4bc9b5n),
};
type Algorithm = keyof typeof REFERENCE;
const ALGORITHMS = Object.keys(REFERENCE) as Algorithm[];

const makers: [string, Algorithm, () => Checksum][] = [
  ...ALGORITHMS.map((a): [string, Algorithm, () => Checksum] => [a, a, () => createCrc(a)]),
  ['portable crc32', 'crc32', createPortableCrc32],
];

function oneShot(make: () => Checksum, data: Buffer): string {
  const c = make();
  c.update(data);
  return c.digest().toString('hex');
}

function hexOf(value: bigint, width: 32 | 64): string {
  return value.toString(16).padStart(width / 4, '0');
}

t.test('check values of "123456789"', async (t) => {
  t.equal(oneShot(() => createCrc('crc32'), CHECK), 'cbf43926');
  t.equal(oneShot(createPortableCrc32, CHECK), 'cbf43926');
  t.equal(oneShot(() => createCrc('crc32c'), CHECK), 'e3069283');
  t.equal(oneShot(() => createCrc('crc64nvme'), CHECK), 'ae8b14860a799888');
  t.equal(hexOf(REFERENCE.crc64nvme(CHECK), 64), 'ae8b14860a799888', 'the reference agrees');
});

t.test('base64 as S3 sends it in x-amz-checksum-*', async (t) => {
  const b64 = (a: Algorithm, text: string): string => {
    const c = createCrc(a);
    c.update(Buffer.from(text));
    return c.digest().toString('base64');
  };
  t.equal(b64('crc32', '123456789'), 'y/Q5Jg==');
  t.equal(b64('crc32c', '123456789'), '4waSgw==');
  t.equal(b64('crc64nvme', '123456789'), 'rosUhgp5mIg=');
  t.equal(b64('crc32', ''), 'AAAAAA==');
  t.equal(b64('crc64nvme', ''), 'AAAAAAAAAAA=');
});

t.test('CRC32C vectors of RFC 3720 (32-byte blocks exercise the 8-byte path)', async (t) => {
  const crc32c = (data: Buffer): string => oneShot(() => createCrc('crc32c'), data);
  t.equal(crc32c(Buffer.alloc(32, 0x00)), '8a9136aa');
  t.equal(crc32c(Buffer.alloc(32, 0xff)), '62a8ab43');
  t.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), '46dd794e');
  t.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), '113fdb5c');
});

t.test('empty input', async (t) => {
  for (const [name, , make] of makers) {
    const c = make();
    t.equal(c.digest().toString('hex'), name === 'crc64nvme' ? '0000000000000000' : '00000000', name);
    c.update(Buffer.alloc(0));
    t.equal(c.digest().toString('hex'), name === 'crc64nvme' ? '0000000000000000' : '00000000', `${name} after an empty update`);
  }
});

t.test('every length 0..64 and a large random buffer match the bit-by-bit reference', async (t) => {
  const data = randomBytes(100_003);
  for (const [name, algorithm, make] of makers) {
    const width = algorithm === 'crc64nvme' ? 64 : 32;
    let mismatches = 0;
    for (let n = 0; n <= 64; n++) {
      const slice = data.subarray(n, n + n); // unaligned starts too
      if (oneShot(make, slice) !== hexOf(REFERENCE[algorithm](slice), width)) mismatches++;
    }
    t.equal(mismatches, 0, `${name}: lengths 0..64`);
    t.equal(oneShot(make, data), hexOf(REFERENCE[algorithm](data), width), `${name}: 100003 bytes`);
  }
});

t.test('updates in odd-sized pieces equal the one-shot result', async (t) => {
  const data = randomBytes(50_000);
  const pieceSizes = [1, 3, 7, 8, 9, 13, 1, 15, 16, 17, 255, 4093, 2, 5];
  for (const [name, , make] of makers) {
    const whole = oneShot(make, data);
    const pieces = make();
    let offset = 0;
    for (let i = 0; offset < data.length; i++) {
      const size = pieceSizes[i % pieceSizes.length]!;
      pieces.update(data.subarray(offset, offset + size));
      offset += size;
    }
    t.equal(pieces.digest().toString('hex'), whole, `${name}: pieces`);

    const bytes = make();
    for (let i = 0; i < 1000; i++) bytes.update(data.subarray(i, i + 1));
    t.equal(bytes.digest().toString('hex'), oneShot(make, data.subarray(0, 1000)), `${name}: byte by byte`);
  }
});

t.test('digest() does not disturb later updates', async (t) => {
  for (const [name, , make] of makers) {
    const c = make();
    c.update(CHECK.subarray(0, 4));
    c.digest();
    c.update(CHECK.subarray(4));
    t.equal(c.digest().toString('hex'), oneShot(make, CHECK), name);
  }
});

t.test('combineCrc: the CRC of pieces combined equals the CRC of the whole', async (t) => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const digestOf = (a: Algorithm, bytes: Buffer): Buffer => {
    const c = createCrc(a);
    c.update(bytes);
    return c.digest();
  };
  // Cuts of every kind: empty pieces, one byte, unaligned, equal sizes (the cached shift), a big tail.
  const cuttings = [[0], [1], [5], [8, 8, 8], [0, 0, 3], [1024 * 1024, 1024 * 1024], [7, 1 << 20, 13, 0, 65_536], [data.length - 1]];
  for (const algorithm of ALGORITHMS) {
    const whole = digestOf(algorithm, data).toString('hex');
    for (const sizes of cuttings) {
      const pieces: Buffer[] = [];
      let offset = 0;
      for (const size of sizes) {
        pieces.push(data.subarray(offset, offset + size));
        offset += size;
      }
      pieces.push(data.subarray(offset));
      let combined = digestOf(algorithm, pieces[0]!);
      for (const piece of pieces.slice(1)) combined = combineCrc(algorithm, combined, digestOf(algorithm, piece), piece.length);
      t.equal(combined.toString('hex'), whole, `${algorithm}: pieces of ${sizes.join(', ')} and the rest`);
    }
    const check = combineCrc(algorithm, digestOf(algorithm, CHECK.subarray(0, 4)), digestOf(algorithm, CHECK.subarray(4)), 5);
    t.equal(check.toString('hex'), digestOf(algorithm, CHECK).toString('hex'), `${algorithm}: "1234" + "56789" is the check value`);
    t.not(
      combineCrc(algorithm, digestOf(algorithm, CHECK.subarray(0, 4)), digestOf(algorithm, CHECK.subarray(4)), 6).toString('hex'),
      digestOf(algorithm, CHECK).toString('hex'),
      `${algorithm}: the length of the second piece matters`,
    );
  }
});
