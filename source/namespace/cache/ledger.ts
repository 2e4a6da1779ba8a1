// The cache's capacity, shared by every process on one cache dir. The ledger file holds the bytes
// of complete entries; writes in flight hold reservations, one empty file each whose name carries
// its size and its process (a dead process's reservations count no more). Space is taken under
// the ledger lock and counted before an entry is renamed into place, and given back only once the
// entry is gone, so a crash leaves the ledger counting too much (until the next recovery), not
// too little. When a reservation does not fit, least-recently-used copies are evicted, and fills
// of this process (copies being made for reads) give way to writes of objects that must be kept.
import { readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Error } from '../../errors';
import type { FileLocks } from '../lock';
import { HOST, PROCESS_ID, isLiveProcess, uniqueSuffix } from '../tmp';

/** Writes and fills of unknown length reserve this much at a time. */
export const RESERVE_STEP = 8 * 1024 * 1024;

/** What eviction can free: least-recently-used copies, never cache-only objects. */
export interface Evictable {
  path: string;
  size: number;
  /** Last use, in milliseconds. */
  usedMs: number;
  /** Removes it if nobody is using it right now; true when it went. */
  remove(): Promise<boolean>;
}

export interface LedgerOptions {
  /** The folder of the ledger file and the reservations. */
  dir: string;
  capacity: number;
  locks: FileLocks;
  /** The copies that could go, in any order. */
  evictable: () => Promise<Evictable[]>;
}

/** Space held for a write in flight; commit it (the entry is placed) or release it. */
export class Reservation {
  bytes = 0;
  readonly files: string[] = [];
  /**
   * Set on a fill's reservation (a copy for reads, which can be made again later): called to give
   * its space up to a write that must be kept.
   */
  yieldTo: (() => Promise<void>) | undefined;
  constructor(private readonly ledger: Ledger) {}

  /** Holds `bytes` more (InsufficientStorage when they cannot be made to fit). */
  grow(bytes: number): Promise<void> {
    return this.ledger.extend(this, bytes);
  }

  release(): Promise<void> {
    return this.ledger.release(this);
  }
}

const LOCK = 'ledger.lock';
/** Eviction frees down to this share of the capacity, so that it runs rarely rather than on every write. */
const LOW_WATER = 0.9;

export class Ledger {
  private readonly reservationsDir: string;
  private readonly file: string;

  constructor(private readonly options: LedgerOptions) {
    this.reservationsDir = join(options.dir, 'reservations');
    this.file = join(options.dir, 'ledger.json');
  }

  get capacity(): number {
    return this.options.capacity;
  }

  /** Fills of this process, which give their space up to writes that must be kept. */
  private readonly yielding = new Set<Reservation>();

  /** Holds `bytes`; a fill's reservation (`yieldTo`) may later be taken back for a pinned write. */
  async reserve(bytes: number, yieldTo?: () => Promise<void>): Promise<Reservation> {
    const reservation = new Reservation(this);
    reservation.yieldTo = yieldTo;
    await this.extend(reservation, bytes);
    if (yieldTo) this.yielding.add(reservation);
    return reservation;
  }

  /** Adds `bytes` to a reservation if they fit, evicting copies (and, for a write, this process's fills). */
  async extend(reservation: Reservation, bytes: number): Promise<void> {
    if (bytes > this.options.capacity) throw noRoom(bytes, this.options.capacity);
    if (!(await this.tryExtend(reservation, bytes))) {
      // A write that must be kept comes before copies being made for reads: they can be made again.
      const fills = reservation.yieldTo ? [] : [...this.yielding].filter((r) => r.bytes > 0);
      if (fills.length === 0) throw noRoom(bytes, this.options.capacity);
      for (const fill of fills) await fill.yieldTo?.();
      if (!(await this.tryExtend(reservation, bytes))) throw noRoom(bytes, this.options.capacity);
    }
  }

  private async tryExtend(reservation: Reservation, bytes: number): Promise<boolean> {
    return this.locked(async () => {
      const used = await this.readUsed();
      const reserved = await this.liveReservations();
      if (used + reserved + bytes > this.options.capacity) {
        const candidates = await this.options.evictable();
        const evictable = candidates.reduce((sum, c) => sum + c.size, 0);
        // Nothing is evicted for a reservation that would not fit even then.
        if (used - evictable + reserved + bytes > this.options.capacity) return false;
        const freed = await this.evict(candidates, used + reserved + bytes - Math.floor(this.options.capacity * LOW_WATER));
        await this.writeUsed(used - freed);
        if (used - freed + reserved + bytes > this.options.capacity) return false;
      }
      const file = join(this.reservationsDir, `${HOST}.${PROCESS_ID}.${uniqueSuffix()}.${bytes}`);
      await writeFile(file, '');
      reservation.files.push(file);
      reservation.bytes += bytes;
      return true;
    });
  }

  /** The entry of `bytes` is about to be placed: its space becomes used, the reservation ends. */
  async commit(reservation: Reservation, bytes: number): Promise<void> {
    this.yielding.delete(reservation);
    await this.locked(async () => {
      await this.writeUsed((await this.readUsed()) + bytes);
      await this.dropFiles(reservation);
    });
  }

  async release(reservation: Reservation): Promise<void> {
    this.yielding.delete(reservation);
    await this.dropFiles(reservation);
  }

  /** An entry of `bytes` was removed (deleted, replaced, found stale). */
  async forget(bytes: number): Promise<void> {
    if (bytes <= 0) return;
    await this.locked(async () => this.writeUsed(Math.max(0, (await this.readUsed()) - bytes)));
  }

  /**
   * Sets the used bytes to what `count` finds really there, under the ledger lock (after a crash;
   * the caller makes sure no other process uses the cache meanwhile), and fits the cache to its size.
   */
  async reconcile(count: () => Promise<number>): Promise<void> {
    await this.locked(async () => {
      const actual = await count();
      await this.writeUsed(actual);
      await this.sweepDeadReservations();
      const over = actual - this.options.capacity;
      if (over > 0) await this.writeUsed(actual - (await this.evict(await this.options.evictable(), over)));
    });
  }

  /** Bytes used by complete entries and held by writes in flight. */
  async usage(): Promise<{ used: number; reserved: number; capacity: number }> {
    const [used, reserved] = await Promise.all([this.readUsed(), this.liveReservations()]);
    return { used, reserved, capacity: this.options.capacity };
  }

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.options.locks.acquire(LOCK);
    try {
      return await work();
    } finally {
      await release();
    }
  }

  /** Removes least-recently-used copies until `bytes` are freed (or none is left); returns what went. */
  private async evict(candidates: Evictable[], bytes: number): Promise<number> {
    candidates.sort((a, b) => a.usedMs - b.usedMs);
    let freed = 0;
    for (const candidate of candidates) {
      if (freed >= bytes) break;
      if (await candidate.remove()) freed += candidate.size;
    }
    return freed;
  }

  private async readUsed(): Promise<number> {
    try {
      const used = (JSON.parse(await readFile(this.file, 'utf8')) as { used?: unknown }).used;
      return typeof used === 'number' && used >= 0 ? used : 0;
    } catch {
      return 0; // a new cache (recovery counts what a torn ledger lost)
    }
  }

  private async writeUsed(used: number): Promise<void> {
    const temp = `${this.file}.${uniqueSuffix()}`;
    await writeFile(temp, JSON.stringify({ used }));
    await rename(temp, this.file);
  }

  private async liveReservations(): Promise<number> {
    let total = 0;
    for (const name of await readdir(this.reservationsDir)) {
      const [host, id, , bytes] = name.split('.');
      if (host === HOST && !isLiveProcess(id ?? '')) continue;
      total += Number(bytes) || 0;
    }
    return total;
  }

  private async sweepDeadReservations(): Promise<void> {
    for (const name of await readdir(this.reservationsDir)) {
      const [host, id] = name.split('.');
      if (host === HOST && !isLiveProcess(id ?? '')) await unlink(join(this.reservationsDir, name)).catch(() => undefined);
    }
  }

  private async dropFiles(reservation: Reservation): Promise<void> {
    const files = reservation.files.splice(0);
    reservation.bytes = 0;
    await Promise.all(files.map((f) => unlink(f).catch(() => undefined)));
  }
}

function noRoom(bytes: number, capacity: number): S3Error {
  return new S3Error(
    'InsufficientStorage',
    `The cache cannot make room for ${bytes} more bytes: of its ${capacity}, what is left is held by objects ` +
      'not yet in the under store and by writes in progress.',
  );
}
