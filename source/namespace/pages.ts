// One page of a listing, from any store's key cursor: keys in UTF-8 byte order, rolled up into
// CommonPrefixes at the delimiter, read from the store a page at a time.
import { compareKeys } from './listing';
import type { BucketName } from './names';
import type { ObjectInfo } from './object-info';
import type { ListedKey, ObjectStore } from './store';

export interface PageRequest {
  prefix: string;
  delimiter: string;
  /** Exclusive start: marker, start-after or the continuation token's key. */
  after: string | undefined;
  maxKeys: number;
  /** Alluxio's semantics: every directory is listed as a `dir/` object, not only folder objects. */
  listDirectories: boolean;
}

export interface Page {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix of the page: where the next page starts. */
  last: string | undefined;
}

export async function listPage(store: ObjectStore, bucket: BucketName, request: PageRequest): Promise<Page> {
  const cursor = await store.keys(bucket, { prefix: request.prefix, after: request.after });
  const page: Page = { objects: [], commonPrefixes: [], isTruncated: false, last: undefined };
  if (request.maxKeys === 0) return page;
  const found: ListedKey[] = [];
  let count = 0;
  for (let entry = await cursor.next(); entry; entry = await cursor.next()) {
    if (entry.kind === 'dir' && !request.listDirectories && !(await entry.isFolder())) continue;
    const rest = entry.key.slice(request.prefix.length);
    const cut = request.delimiter === '' ? -1 : rest.indexOf(request.delimiter);
    if (cut >= 0) {
      const commonPrefix = request.prefix + rest.slice(0, cut + request.delimiter.length);
      cursor.skip(commonPrefix);
      // A common prefix at or before the start was returned by an earlier page.
      if (request.after !== undefined && compareKeys(commonPrefix, request.after) <= 0) continue;
      if (count === request.maxKeys) {
        page.isTruncated = true;
        break;
      }
      page.commonPrefixes.push(commonPrefix);
      page.last = commonPrefix;
      count++;
      continue;
    }
    if (count === request.maxKeys) {
      page.isTruncated = true;
      break;
    }
    found.push(entry);
    page.last = entry.key;
    count++;
  }
  // Describe the page's objects in parallel; one that vanished meanwhile is left out.
  const described = await Promise.all(found.map((entry) => entry.describe()));
  page.objects = described.filter((o): o is ObjectInfo => o !== undefined);
  return page;
}
