// A listing of two stores as one: the cache-only objects merged into the under store's keys, in
// key order. Where both have a key, the cache-only version is the current one and wins; where both
// have a directory, it is one entry, a folder object if either store made it one.
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
    if (order === 0 && up!.kind === 'dir' && low!.kind === 'dir') return mergedDirectory(up!, low!);
    return order <= 0 ? up! : low!;
  }

  skip(prefix: string): void {
    this.upper.skip(prefix);
    this.lower.skip(prefix);
    if (this.upperHead?.key.startsWith(prefix)) this.upperHead = null;
    if (this.lowerHead?.key.startsWith(prefix)) this.lowerHead = null;
  }
}

/**
 * A directory both stores have: a folder object (`dir/` made as one) if either made it one, and
 * described by the one that did (the other's is only a parent of its keys).
 */
function mergedDirectory(upper: ListedKey, lower: ListedKey): ListedKey {
  return {
    key: upper.key,
    kind: 'dir',
    isFolder: async () => (await upper.isFolder()) || (await lower.isFolder()),
    describe: async () => ((await upper.isFolder()) || !(await lower.isFolder()) ? upper.describe() : lower.describe()),
  };
}
