// CRC checksums S3 clients send (x-amz-checksum-crc32 / -crc32c / -crc64nvme), computed
// incrementally. CRC32 uses zlib's where Node has it; the others are table-driven.
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

export function createCrc(algorithm: 'crc32' | 'crc32c' | 'crc64nvme'): Checksum {
  switch (algorithm) {
    case 'crc32':
      return typeof zlib.crc32 === 'function' ? new ZlibCrc32() : createPortableCrc32();
    case 'crc32c':
      return new ReflectedCrc32(CRC32C_TABLES);
    case 'crc64nvme':
      return new Crc64Nvme();
  }
}
