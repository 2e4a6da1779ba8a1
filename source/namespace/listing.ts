// Keys of a bucket in S3 order (UTF-8 bytes), walked from the directory tree without scanning
// more of it than a page needs: the walk starts at the directory the prefix names and skips
// every directory that lies wholly before the start key or inside a skipped prefix. A directory
// `d` may also hold the object `d` (as `d/.sluice-object`), which sorts before `d/`.
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Layout } from './layout';
import { STAGING_PREFIX } from './moves';
import { NESTED_OBJECT, isReservedName } from './names';
import type { ObjectInfo } from './object-info';
import type { KeyCursor, ListedKey } from './store';

/** A move in progress hides its key from the directory for a moment: a listing waits this long at most. */
const MOVE_WAIT_MS = 200;
/** Directories looked into for a nested object at once, ahead of the walk. */
const LOOK_AHEAD = 32;

export interface WalkEntry {
  /** The key: a file's path, or a directory's path with a trailing `/`. */
  key: string;
  kind: 'file' | 'dir';
  path: string;
}

interface SortedEntry {
  name: string;
  /** 'nested': the object a directory may hold under its own name (looked for when reached). */
  kind: 'file' | 'dir' | 'nested';
  /** For 'nested': the look for it, once started (the path of its file, if there is one). */
  found?: Promise<string | undefined>;
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

/** How a walk finds the objects that directories hold under their own names. */
export interface NestedObjects {
  /** False when no sub-directory of `dir` can hold one (none ever did): no need to look. */
  mayHold(dir: string): Promise<boolean>;
  /** The path of the file of the object named like directory `dir`, if it has one. */
  find(dir: string): Promise<string | undefined>;
}

/** Looks at each directory's `.sluice-object` (a store also finds one that is being moved). */
const DIRECT_NESTED: NestedObjects = {
  mayHold: async () => true,
  find: async (dir) => {
    const path = join(dir, NESTED_OBJECT);
    return (await stat(path).catch(() => undefined))?.isFile() ? path : undefined;
  },
};

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
    private readonly nested: NestedObjects = DIRECT_NESTED,
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
      if (entry.kind === 'nested') {
        if (!this.isAfterStart(key)) continue;
        const found = await (entry.found ?? this.lookAhead(frame, frame.index - 1));
        if (found !== undefined) return { key, kind: 'file', path: found };
        continue;
      }
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

  /**
   * Starts the looks for nested objects from entry `from` on, a window at a time, so that they run
   * side by side (a directory of many sub-directories would otherwise wait for each in turn).
   */
  private lookAhead(frame: Frame, from: number): Promise<string | undefined> {
    for (let i = from, started = 0; i < frame.entries.length && started < LOOK_AHEAD; i++) {
      const entry = frame.entries[i]!;
      const key = frame.keyPrefix + entry.name;
      if (entry.kind !== 'nested' || entry.found || (i > from && !this.mayList(key))) continue;
      entry.found = this.nested.find(join(frame.dir, entry.name)).catch(() => undefined);
      started++;
    }
    return frame.entries[from]!.found!;
  }

  /** A key the walk would return as far as is known now (its prefix, the start, skips so far). */
  private mayList(key: string): boolean {
    return key.startsWith(this.prefix) && (this.skipping === undefined || !key.startsWith(this.skipping)) && this.isAfterStart(key);
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
    const dirents = await this.readSettled(dir);
    // Asked after the directory is read: a nest that made a directory we saw had flagged it first.
    const nestedHere = dirents.some((d) => d.isDirectory()) && (await this.nested.mayHold(dir));
    const entries: SortedEntry[] = [];
    for (const dirent of dirents) {
      const name = dirent.name;
      if (isReservedName(name)) continue;
      let kind: 'file' | 'dir' | undefined = dirent.isFile() ? 'file' : dirent.isDirectory() ? 'dir' : undefined;
      if (dirent.isSymbolicLink()) kind = await this.symlinkKind(join(dir, name));
      if (!kind) continue;
      entries.push({ name, kind, sortKey: Buffer.from(kind === 'dir' ? `${name}/` : name, 'utf8') });
      if (kind === 'dir' && nestedHere && dirent.isDirectory()) entries.push({ name, kind: 'nested', sortKey: Buffer.from(name, 'utf8') });
    }
    entries.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    return entries;
  }

  /** The directory's entries, read again while a move of one of them is under way (it is absent meanwhile). */
  private async readSettled(dir: string): Promise<Dirent[]> {
    for (let waited = 0; ; waited += 2) {
      let dirents: Dirent[];
      try {
        dirents = await readdir(dir, { withFileTypes: true });
      } catch {
        return []; // removed while we walked, or unreadable: nothing to list
      }
      // A staging folder left by a crash stays until its key is touched: list without its key then.
      if (waited >= MOVE_WAIT_MS || !dirents.some((d) => d.name.startsWith(STAGING_PREFIX))) return dirents;
      await new Promise((r) => setTimeout(r, 2));
    }
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
      nested: NestedObjects;
    },
  ) {
    const after = options.after !== undefined ? { after: options.after } : {};
    this.walker = new KeyWalker(layout, bucketDir, { prefix: options.prefix, ...after }, store.nested);
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
