// Where things live under ROOT: buckets are top-level directories, internal state is in .sluice/.
import { createHash } from 'node:crypto';
import { mkdir, realpath, stat, statfs } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export const INTERNAL_DIR = '.sluice';

/** statfs(2)'s f_type of an NFS mount. */
const NFS_SUPER_MAGIC = 0x6969;

/** True when a real path is `root` or below it, and not `internal` or below it (also the small-object worker's check). */
export function isServableIn(root: string, internal: string, realPath: string): boolean {
  if (realPath === root) return true;
  if (!realPath.startsWith(root + sep)) return false;
  return realPath !== internal && !realPath.startsWith(internal + sep);
}

export class Layout {
  readonly root: string;
  readonly internal: string;
  readonly buckets: string;
  readonly meta: string;
  readonly uploads: string;
  readonly tmp: string;
  /** Lists of metadata records to remove, one per process (retire.ts). */
  readonly retire: string;
  /** Objects moving between their file and a directory of the same name: locks and sequence numbers (moves.ts). */
  readonly moves: string;
  /** Device of the tmp folder: a bucket on another device gets its temp files beside the target. */
  tmpDevice = 0;
  /**
   * ROOT is on NFS, whose clients answer `stat` from an attribute cache (up to acregmax, a minute)
   * and revalidate only on `open` (close-to-open consistency): what must be fresh opens the file.
   */
  attributesCached = false;

  private constructor(root: string) {
    this.root = root;
    this.internal = join(root, INTERNAL_DIR);
    this.buckets = join(this.internal, 'buckets');
    this.meta = join(this.internal, 'meta');
    this.uploads = join(this.internal, 'uploads');
    this.tmp = join(this.internal, 'tmp');
    this.retire = join(this.internal, 'retire');
    this.moves = join(this.internal, 'moves');
  }

  /** Creates ROOT and the internal folders if missing; ROOT is resolved so symlink checks compare real paths. */
  static async open(root: string): Promise<Layout> {
    await mkdir(root, { recursive: true });
    const layout = new Layout(await realpath(root));
    for (const dir of [layout.buckets, layout.uploads, layout.tmp, layout.retire, layout.moves]) await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: 256 }, (_, i) => mkdir(join(layout.meta, i.toString(16).padStart(2, '0')), { recursive: true })),
    );
    layout.tmpDevice = (await stat(layout.tmp)).dev;
    layout.attributesCached = (await statfs(layout.root).catch(() => undefined))?.type === NFS_SUPER_MAGIC;
    return layout;
  }

  /** A name for a path below ROOT that every process serving ROOT gives it (a hash of the relative path). */
  idOf(path: string): string {
    return createHash('sha256').update(relative(this.root, path)).digest('hex').slice(0, 40);
  }

  /** True when a real (symlink-resolved) path is inside ROOT and not inside the internal folder. */
  isServable(realPath: string): boolean {
    return isServableIn(this.root, this.internal, realPath);
  }
}
