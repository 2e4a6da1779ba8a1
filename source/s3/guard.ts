// A request's view of the object store once dispatch has authorized it: the handler reaches only
// the keys that were authorized (its target, and a copy source), and an object it opens is checked
// against the caller's permissions as opened, before a byte of it is sent, so the version
// authorized is the version served. Writes and deletes were authorized on the bucket already.
import { S3Error, accessDenied } from '../errors';
import type { BucketName, ObjectAttributes, ObjectInfo, ObjectKey, ObjectStore, OpenedObject } from '../namespace';
import type { KeyCursor } from '../namespace/store';
import type { Owned } from './permissions';

/** What may be done with one key: `check` throws AccessDenied unless the caller may have the object as described. */
export interface KeyRule {
  check(owned: Owned): void;
  /** The error for a key that does not exist: NoSuchKey, or AccessDenied to a caller who may not list the bucket. */
  missing(error: S3Error): S3Error;
}

export interface GuardRules {
  /** The bucket written, deleted from or listed. */
  bucket: BucketName;
  /** The key written (undefined: none; '*': any key of the bucket may be deleted, as DeleteObjects does). */
  key: string | undefined;
  /** Rules of the keys that may be opened, described or updated, by `bucket/key`. */
  reads: Map<string, KeyRule>;
}

const unauthorized = (key: string): S3Error => accessDenied('The request was not authorized for this key.', { key });

export class GuardedObjects implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly rules: GuardRules,
  ) {}

  private rule(bucket: BucketName, key: ObjectKey): KeyRule {
    const rule = this.rules.reads.get(`${bucket}/${key}`);
    if (!rule) throw unauthorized(key);
    return rule;
  }

  private requireWritable(bucket: BucketName, key: ObjectKey, anyKey = false): void {
    const allowed = this.rules.key === key || (anyKey && this.rules.key === '*');
    if (bucket !== this.rules.bucket || !allowed) throw unauthorized(key);
  }

  private async described<T>(rule: KeyRule, describe: Promise<T>): Promise<T> {
    return describe.catch((e: unknown) => {
      throw e instanceof S3Error && e.code === 'NoSuchKey' ? rule.missing(e) : e;
    });
  }

  async open(bucket: BucketName, key: ObjectKey): Promise<OpenedObject> {
    const rule = this.rule(bucket, key);
    const opened = await this.described(rule, this.inner.open(bucket, key));
    try {
      rule.check(opened.info);
    } catch (e) {
      await opened.body?.close();
      throw e;
    }
    return opened;
  }

  async head(bucket: BucketName, key: ObjectKey): Promise<ObjectInfo> {
    const rule = this.rule(bucket, key);
    const info = await this.described(rule, this.inner.head(bucket, key));
    rule.check(info);
    return info;
  }

  async updateAttributes(bucket: BucketName, key: ObjectKey, update: (current: ObjectAttributes) => ObjectAttributes): Promise<ObjectInfo> {
    const rule = this.rule(bucket, key);
    return this.described(
      rule,
      this.inner.updateAttributes(bucket, key, (current) => {
        rule.check(current); // on the version being updated
        return update(current);
      }),
    );
  }

  write(...args: Parameters<ObjectStore['write']>): Promise<ObjectInfo> {
    this.requireWritable(args[0], args[1]);
    return this.inner.write(...args);
  }

  createFolder(...args: Parameters<ObjectStore['createFolder']>): Promise<ObjectInfo> {
    this.requireWritable(args[0], args[1]);
    return this.inner.createFolder(...args);
  }

  async delete(...args: Parameters<ObjectStore['delete']>): Promise<void> {
    this.requireWritable(args[0], args[1], true);
    await this.inner.delete(...args);
  }

  keys(bucket: BucketName, options: { prefix: string; after?: string | undefined }): Promise<KeyCursor> {
    if (bucket !== this.rules.bucket) throw unauthorized('');
    return this.inner.keys(bucket, options);
  }
}
