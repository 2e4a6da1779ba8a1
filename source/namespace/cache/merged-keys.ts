// A listing of two stores as one: the cache-only objects merged into the under store's keys, in
// key order. Where both have a key, the cache-only version is the current one and wins.
import { compareKeys } from '../listing';
import type { KeyCursor, ListedKey } from '../store';

export class MergedKeys implements KeyCursor {
  private upperHead: ListedKey | undefined | null = null; // null: not read yet
  private lowerHead: ListedKey | undefined | null = null;

  constructor(
    private readonly upper: KeyCursor,
    private readonly lower: KeyCursor,
  ) {}

  async next(): Promise<ListedKey | undefined> {
    if (this.upperHead === null) this.upperHead = await this.upper.next();
    if (this.lowerHead === null) this.lowerHead = await this.lower.next();
    const up = this.upperHead;
    const low = this.lowerHead;
    if (!up && !low) return undefined;
    const order = !up ? 1 : !low ? -1 : compareKeys(up.key, low.key);
    if (order <= 0) this.upperHead = null;
    if (order >= 0) this.lowerHead = null;
    return order <= 0 ? up! : low!;
  }

  skip(prefix: string): void {
    this.upper.skip(prefix);
    this.lower.skip(prefix);
    if (this.upperHead?.key.startsWith(prefix)) this.upperHead = null;
    if (this.lowerHead?.key.startsWith(prefix)) this.lowerHead = null;
  }
}
