// CRC checksums S3 clients send (x-amz-checksum-crc32 / -crc32c / -crc64nvme), computed
// incrementally (CRC32 uses zlib's where Node has it; the others are table-driven), and combined
// from the CRCs of consecutive pieces (a multipart object's full-object CRC).
import * as zlib from 'node:zlib';

export interface Checksum {
  update(chunk: Buffer): void;
  /** The big-endian digest bytes, as S3 encodes them in base64. */
  digest(): Buffer;
}

function crc32Table(poly: number): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    tables[0]![i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let t = 1; t < 8; t++) tables[t]![i] = (tables[t - 1]![i]! >>> 8) ^ tables[0]![tables[t - 1]![i]! & 0xff]!;
  }
  return tables;
}

const CRC32C_TABLES = crc32Table(0x82f63b78);
let crc32Tables: Uint32Array[] | undefined;

type Eight<T> = [T, T, T, T, T, T, T, T];

/** A reflected 32-bit CRC (init and xorout all ones), slice-by-8 over the given tables. */
class ReflectedCrc32 implements Checksum {
  private crc = 0xffffffff;
  constructor(private readonly tables: Uint32Array[]) {}
  update(chunk: Buffer): void {
    const [t0, t1, t2, t3, t4, t5, t6, t7] = this.tables as Eight<Uint32Array>;
    let crc = this.crc;
    let i = 0;
    const end8 = chunk.length - (chunk.length % 8);
    for (; i < end8; i += 8) {
      const a = (chunk[i]! | (chunk[i + 1]! << 8) | (chunk[i + 2]! << 16) | (chunk[i + 3]! << 24)) ^ crc;
      crc =
        t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
        t3[chunk[i + 4]!]! ^ t2[chunk[i + 5]!]! ^ t1[chunk[i + 6]!]! ^ t0[chunk[i + 7]!]!;
    }
    for (; i < chunk.length; i++) crc = (crc >>> 8) ^ t0[(crc ^ chunk[i]!) & 0xff]!;
    this.crc = crc >>> 0;
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE((this.crc ^ 0xffffffff) >>> 0);
    return out;
  }
}

class ZlibCrc32 implements Checksum {
  private crc = 0;
  update(chunk: Buffer): void {
    this.crc = zlib.crc32(chunk, this.crc);
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.crc >>> 0);
    return out;
  }
}

/** CRC32 in JavaScript: zlib.crc32 only exists from Node 20.15, and package.json allows any Node 20. */
export function createPortableCrc32(): Checksum {
  crc32Tables ??= crc32Table(0xedb88320);
  return new ReflectedCrc32(crc32Tables);
}

// CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5), kept as two 32-bit halves: BigInt per byte is far too slow.
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
{
  const poly = 0x9a6c9329ac4bc9b5n;
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    CRC64_LO[i] = Number(c & 0xffffffffn);
    CRC64_HI[i] = Number(c >> 32n);
  }
}

class Crc64Nvme implements Checksum {
  private lo = 0xffffffff;
  private hi = 0xffffffff;
  update(chunk: Buffer): void {
    let lo = this.lo;
    let hi = this.hi;
    for (let i = 0; i < chunk.length; i++) {
      const index = (lo ^ chunk[i]!) & 0xff;
      // (crc >> 8) ^ table[index], over the two halves
      lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ CRC64_LO[index]!;
      hi = (hi >>> 8) ^ CRC64_HI[index]!;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }
  digest(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    out.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return out;
  }
}

export type CrcAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme';

export function createCrc(algorithm: CrcAlgorithm): Checksum {
  switch (algorithm) {
    case 'crc32':
      return typeof zlib.crc32 === 'function' ? new ZlibCrc32() : createPortableCrc32();
    case 'crc32c':
      return new ReflectedCrc32(CRC32C_TABLES);
    case 'crc64nvme':
      return new Crc64Nvme();
  }
}

/**
 * Combining CRCs (zlib's crc32_combine, for any of the reflected CRCs above): the CRC of A then B
 * from crc(A), crc(B) and the length of B, without reading the bytes again. With init and xorout
 * both all ones, crc(AB) = crc(A)·x^(8·|B|) ⊕ crc(B) modulo the polynomial; numbers are in the
 * reflected bit order the tables use (x^0 is the top bit). BigInt is fine here: a combine costs a
 * few hundred steps, once per part.
 */
class CrcCombiner {
  private readonly one: bigint;
  /** x^(2^k) mod P, for k = 0..63 (lengths up to 2^53 bytes need k < 56). */
  private readonly squares: bigint[] = [];
  /** x^(8n) mod P by byte count n: the parts of an upload are mostly one size. */
  private readonly shifts = new Map<number, bigint>();

  constructor(
    private readonly width: number,
    private readonly poly: bigint,
  ) {
    this.one = 1n << BigInt(width - 1);
    let power = this.one >> 1n; // x^1
    for (let k = 0; k < 64; k++) {
      this.squares.push(power);
      power = this.multiply(power, power);
    }
  }

  /** a·b modulo P. */
  private multiply(a: bigint, b: bigint): bigint {
    let product = 0n;
    for (let bit = this.one; bit !== 0n && a !== 0n; bit >>= 1n) {
      if (a & bit) {
        product ^= b;
        a ^= bit;
      }
      b = b & 1n ? (b >> 1n) ^ this.poly : b >> 1n;
    }
    return product;
  }

  /** x^(8·bytes) mod P. */
  private shift(bytes: number): bigint {
    let power = this.shifts.get(bytes);
    if (power !== undefined) return power;
    power = this.one;
    // x^(8n) = product of x^(2^(k+3)) over the set bits k of n.
    for (let n = BigInt(bytes), k = 3; n > 0n; n >>= 1n, k++) if (n & 1n) power = this.multiply(this.squares[k]!, power);
    if (this.shifts.size < 64) this.shifts.set(bytes, power);
    return power;
  }

  combine(first: Buffer, second: Buffer, secondLength: number): Buffer {
    const bytes = this.width / 8;
    const value = this.multiply(this.shift(secondLength), readBig(first)) ^ readBig(second);
    const out = Buffer.alloc(bytes);
    for (let i = bytes - 1, v = value; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
    return out;
  }
}

function readBig(digest: Buffer): bigint {
  let value = 0n;
  for (const byte of digest) value = (value << 8n) | BigInt(byte);
  return value;
}

const combiners: Partial<Record<CrcAlgorithm, CrcCombiner>> = {};
const POLYNOMIALS: Record<CrcAlgorithm, [number, bigint]> = {
  crc32: [32, 0xedb88320n],
  crc32c: [32, 0x82f63b78n],
  crc64nvme: [64, 0x9a6c9329ac4bc9b5n],
};

/** The CRC digest (big-endian, as `digest()` gives it) of A then B, from A's, B's and B's length. */
export function combineCrc(algorithm: CrcAlgorithm, first: Buffer, second: Buffer, secondLength: number): Buffer {
  const [width, poly] = POLYNOMIALS[algorithm];
  combiners[algorithm] ??= new CrcCombiner(width, poly);
  return combiners[algorithm].combine(first, second, secondLength);
}
