// Keys of a bucket in S3 order (UTF-8 bytes), walked from the directory tree without scanning
// more of it than a page needs: the walk starts at the directory the prefix names and skips
// every directory that lies wholly before the start key or inside a skipped prefix.
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Layout } from './layout';
import type { ObjectInfo } from './object-info';
import type { KeyCursor, ListedKey } from './store';
import { HIDDEN_TEMP_PREFIX } from './tmp';

export interface WalkEntry {
  /** The key: a file's path, or a directory's path with a trailing `/`. */
  key: string;
  kind: 'file' | 'dir';
  path: string;
}

interface SortedEntry {
  name: string;
  kind: 'file' | 'dir';
  /** UTF-8 bytes of the name, with `/` after a directory's, so siblings sort as their keys do. */
  sortKey: Buffer;
}

interface Frame {
  dir: string;
  keyPrefix: string;
  entries: SortedEntry[];
  index: number;
}

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export interface WalkOptions {
  /** Only keys starting with this. */
  prefix: string;
  /** Only keys after this one (exclusive), in UTF-8 byte order. */
  after?: string;
}

/** Walks keys in order; `skip(p)` drops every further key starting with `p` (a common prefix). */
export class KeyWalker {
  private readonly stack: Frame[] = [];
  private readonly prefix: string;
  private readonly after: Buffer | undefined;
  private afterText: string | undefined;
  private skipping: string | undefined;
  private started = false;

  constructor(
    private readonly layout: Layout,
    private readonly bucketDir: string,
    options: WalkOptions,
  ) {
    this.prefix = options.prefix;
    this.afterText = options.after;
    this.after = options.after === undefined ? undefined : Buffer.from(options.after, 'utf8');
  }

  skip(prefix: string): void {
    this.skipping = prefix;
  }

  private async start(): Promise<void> {
    this.started = true;
    // Go straight to the deepest directory the prefix names in full.
    const slash = this.prefix.lastIndexOf('/');
    const keyPrefix = slash >= 0 ? this.prefix.slice(0, slash + 1) : '';
    const dir = keyPrefix === '' ? this.bucketDir : join(this.bucketDir, ...keyPrefix.slice(0, -1).split('/'));
    if (keyPrefix !== '') {
      if (keyPrefix.split('/').slice(0, -1).some((s) => s === '' || s === '.' || s === '..')) return;
      const stats = await stat(dir).catch(() => undefined);
      // Removed between the two calls (a delete pruned it): as empty as if it had never been.
      const real = stats?.isDirectory() ? await realpath(dir).catch(() => undefined) : undefined;
      if (real === undefined || !this.layout.isServable(real)) return;
      // The directory the prefix names is itself a key (`dir/`), listed before its contents.
      if (keyPrefix === this.prefix) this.pendingDir = { key: keyPrefix, kind: 'dir', path: dir };
    }
    this.stack.push({ dir, keyPrefix, entries: await this.readSorted(dir), index: 0 });
  }

  private pendingDir: WalkEntry | undefined;
  private descent: { dir: string; keyPrefix: string } | undefined;

  async next(): Promise<WalkEntry | undefined> {
    if (!this.started) await this.start();
    if (this.pendingDir) {
      const entry = this.pendingDir;
      this.pendingDir = undefined;
      if (this.isAfterStart(entry.key)) return entry;
    }
    for (;;) {
      if (this.descent) {
        const { dir, keyPrefix } = this.descent;
        this.descent = undefined;
        if (this.skipping === undefined || !keyPrefix.startsWith(this.skipping)) {
          this.stack.push({ dir, keyPrefix, entries: await this.readSorted(dir), index: 0 });
        }
      }
      const frame = this.stack[this.stack.length - 1];
      if (!frame) return undefined;
      const entry = frame.entries[frame.index++];
      if (!entry) {
        this.stack.pop();
        continue;
      }
      const key = frame.keyPrefix + entry.name + (entry.kind === 'dir' ? '/' : '');
      if (!key.startsWith(this.prefix) && !(entry.kind === 'dir' && this.prefix.startsWith(key))) continue;
      if (this.skipping !== undefined && key.startsWith(this.skipping)) continue;
      const path = join(frame.dir, entry.name);
      if (entry.kind === 'dir') {
        if (!this.subtreeReachesPastStart(key)) continue;
        // Descend on the next call, so that a caller who skips this prefix spares the readdir.
        this.descent = { dir: path, keyPrefix: key };
        if (key.startsWith(this.prefix) && this.isAfterStart(key)) return { key, kind: 'dir', path };
        continue;
      }
      if (this.isAfterStart(key)) return { key, kind: 'file', path };
    }
  }

  private isAfterStart(key: string): boolean {
    if (this.after === undefined) return true;
    return Buffer.compare(Buffer.from(key, 'utf8'), this.after) > 0;
  }

  /** A directory's keys all start with its key: they can follow the start key only if it is before the directory or inside it. */
  private subtreeReachesPastStart(dirKey: string): boolean {
    if (this.after === undefined) return true;
    return this.isAfterStart(dirKey) || this.afterText!.startsWith(dirKey);
  }

  private async readSorted(dir: string): Promise<SortedEntry[]> {
    let dirents: Dirent[];
    try {
      dirents = await readdir(dir, { withFileTypes: true });
    } catch {
      return []; // removed while we walked, or unreadable: nothing to list
    }
    const entries: SortedEntry[] = [];
    for (const dirent of dirents) {
      const name = dirent.name;
      if (name.startsWith(HIDDEN_TEMP_PREFIX)) continue;
      let kind: 'file' | 'dir' | undefined = dirent.isFile() ? 'file' : dirent.isDirectory() ? 'dir' : undefined;
      if (dirent.isSymbolicLink()) kind = await this.symlinkKind(join(dir, name));
      if (!kind) continue;
      entries.push({ name, kind, sortKey: Buffer.from(kind === 'dir' ? `${name}/` : name, 'utf8') });
    }
    entries.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    return entries;
  }

  /** Symlinks to files inside ROOT are listed; links to directories are not followed (no cycles). */
  private async symlinkKind(path: string): Promise<'file' | undefined> {
    const stats = await stat(path).catch(() => undefined);
    if (!stats?.isFile()) return undefined;
    const real = await realpath(path).catch(() => undefined);
    return real !== undefined && this.layout.isServable(real) ? 'file' : undefined;
  }
}

/** A walk of one bucket's directory tree as a KeyCursor; `describe` and `isFolder` come from its store. */
export class PosixKeyCursor implements KeyCursor {
  private readonly walker: KeyWalker;

  constructor(
    layout: Layout,
    bucketDir: string,
    options: { prefix: string; after?: string | undefined },
    private readonly store: {
      describe(entry: WalkEntry): Promise<ObjectInfo | undefined>;
      isFolder(entry: WalkEntry): Promise<boolean>;
    },
  ) {
    const after = options.after !== undefined ? { after: options.after } : {};
    this.walker = new KeyWalker(layout, bucketDir, { prefix: options.prefix, ...after });
  }

  async next(): Promise<ListedKey | undefined> {
    const entry = await this.walker.next();
    if (!entry) return undefined;
    return { key: entry.key, kind: entry.kind, describe: () => this.store.describe(entry), isFolder: () => this.store.isFolder(entry) };
  }

  skip(prefix: string): void {
    this.walker.skip(prefix);
  }
}
