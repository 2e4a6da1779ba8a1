// The under store as the tiers use it, and what every part of the tiers applies to what passes
// between the two stores: the attributes the under store is given, and the errors that mean a
// lookup found nothing.
import { isS3Error } from '../../errors';
import type { ObjectAttributes } from '../metadata';
import type { BucketName, ObjectKey } from '../names';
import type { ObjectStore, VersionStamp } from '../store';

/** The under store as the tiers use it: an object store that can tell a version's identity cheaply. */
export interface UnderStore extends ObjectStore {
  /** Not `exact`, a version in the middle of a move (see moves.ts) may be missed: cheaper, for hints. */
  version(bucket: BucketName, key: ObjectKey, exact?: boolean): Promise<VersionStamp | undefined>;
}

export const isNotFound = (e: unknown): boolean => isS3Error(e, 'NoSuchKey', 'NoSuchBucket');

/** What `lookup` finds, or undefined where it finds no such key or bucket (other errors pass). */
export function unlessNotFound<T>(lookup: Promise<T>): Promise<T | undefined> {
  return lookup.catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
}

/** Attributes for the under store: persistence is a cache-only object's, never recorded there. */
export function persisted(attributes: ObjectAttributes): ObjectAttributes {
  const { persistence: _persistence, ...rest } = attributes;
  return rest;
}
