// Which directories may have sub-directories that hold a nested object (moves.ts): a flag file
// per such directory under .sluice/moves, made before the first of them nests and never removed,
// so that listings look inside sub-directories for one only where one ever was.
import { stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Layout } from './layout';

/** Flags known to be set, kept in memory at most. */
const FLAGS_KEPT = 4096;

export class NestedFlags {
  /** Flags known to be set (they are never removed). */
  private readonly known = new Set<string>();

  constructor(private readonly layout: Layout) {}

  private fileOf(dir: string): string {
    return join(this.layout.moves, `nested.${this.layout.idOf(dir)}`);
  }

  /** Flags the directory above `path` (before `path` holds a nested object). */
  async flag(path: string): Promise<void> {
    const file = this.fileOf(dirname(path));
    if (this.known.has(file)) return;
    await writeFile(file, '', { flag: 'a' });
    this.remember(file);
  }

  /**
   * False when no sub-directory of `dir` ever held a nested object: a listing need not look inside
   * each of them. Ask after reading the directory: a nest flags it before it moves anything.
   */
  async mayHold(dir: string): Promise<boolean> {
    const file = this.fileOf(dir);
    if (this.known.has(file)) return true;
    if (!(await stat(file).catch(() => undefined))) return false;
    this.remember(file);
    return true;
  }

  private remember(file: string): void {
    if (this.known.size >= FLAGS_KEPT) this.known.clear();
    this.known.add(file);
  }
}
