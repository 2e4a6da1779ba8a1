// A file found for a key, as the key's object: described from its record (or, without one, as a
// file another program wrote), refused when it resolves outside the served tree, and given up
// (for the caller to look again) when it moved or was replaced between being found and being read.
import type { BigIntStats } from 'node:fs';
import { noSuchKey } from '../errors';
import { FileBody } from './file-body';
import type { Layout } from './layout';
import type { MetadataStore } from './metadata';
import type { ObjectKey } from './names';
import { describeForeign, describeRecorded, type ObjectInfo } from './object-info';
import { isServableFile } from './parents';
import { fileOnly, statProbe, type FoundFile, type OpenFile } from './probes';
import type { OpenedObject } from './store';

export class FoundObjects {
  constructor(
    private readonly layout: Layout,
    private readonly metadata: MetadataStore,
    private readonly options: { defaultOwner: string },
  ) {}

  /** Describes a file version; `stats` must be of the file as opened or stat'ed. */
  async describe(key: ObjectKey, stats: BigIntStats): Promise<ObjectInfo> {
    const recorded = await this.metadata.readFile(stats);
    return recorded ? describeRecorded(key, stats, recorded) : describeForeign(key, stats, this.options.defaultOwner);
  }

  /**
   * Describes the file found for a key; undefined when it is no longer there (moved, nested or
   * back, or deleted since). A version replaced between the stat and the read of its record has
   * lost the record already; its "no record" says nothing, so the version that replaced it is
   * described instead, never the old bytes with foreign defaults.
   */
  async located(key: ObjectKey, found: FoundFile | undefined): Promise<{ info: ObjectInfo; path: string } | undefined> {
    if (!found) throw noSuchKey(key);
    if (!(await isServableFile(this.layout, found.path, key))) return undefined;
    for (let attempt = 0, stats = found.stats; ; attempt++) {
      const info = await this.describe(key, stats);
      if (!info.foreign || attempt >= 3) return { info, path: found.path };
      const now = fileOnly(await statProbe(found.path));
      if (!now) return undefined;
      if (now.stats.ino === stats.ino && now.stats.mtimeNs === stats.mtimeNs && now.stats.size === stats.size) {
        return { info, path: found.path };
      }
      stats = now.stats;
    }
  }

  /**
   * The opened file as the key's object; closed on failure. With `retry`, undefined (and closed)
   * when the file is no longer at its path (moved, nested or back), or when the version was
   * replaced or deleted while we opened it: a writer renamed a new version over it and removed
   * its record. Read the new version rather than the old bytes without their metadata.
   */
  async opened(key: ObjectKey, found: OpenFile, before?: Promise<unknown>, retry = false): Promise<OpenedObject | undefined> {
    const { handle } = found;
    try {
      const servable = await isServableFile(this.layout, found.path, key).catch(async (e: unknown) => {
        await before;
        throw e;
      });
      if (!servable) {
        await handle.close();
        if (retry) return undefined;
        await before;
        throw noSuchKey(key);
      }
      const info = await this.describe(key, found.stats);
      if (info.foreign && retry && (await handle.stat({ bigint: true })).nlink === 0n) {
        await handle.close();
        return undefined;
      }
      await before;
      return { info, body: new FileBody(handle) };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }
}
