// Who may do what: each action's requirement on its bucket (and a copy source's), on the object it
// names and on the multipart upload it continues, checked against the caller's bits (permissions.ts)
// before the handler runs. What an object itself allows is checked on the version the handler opens
// (guard.ts). The table follows Alluxio's checks (POSIX: list a directory with r-x, create or delete
// in it with -wx, reach a file by name with --x, read it with r, change its attributes with w, its
// mode as its owner); S3's model (--auth sigv4, --compat s3) keeps a bucket's configuration and an
// object's tags and ACL to their owners, as S3 does.
import { S3Error, accessDenied, isCode, noSuchBucket } from '../errors';
import {
  bucketSegments,
  parseBucketName,
  parseObjectKey,
  type BucketInfo,
  type BucketName,
  type Namespace,
  type ObjectKey,
} from '../namespace';
import type { Services } from './context';
import { parseCopySource } from './copy-source';
import { GuardedObjects, type KeyRule } from './guard';
import {
  EXECUTE,
  READ,
  WRITE,
  allows,
  controls,
  effectivePermissions,
  followsS3,
  type Caller,
  type Owned,
  type PermissionSettings,
} from './permissions';
import type { RequestTarget } from './target';

/** What an action needs of its bucket: list it (r-x), reach its objects (--x), write in it (-wx), or own it. */
type BucketNeed = 'list' | 'reach' | 'write' | 'owner';
/**
 * What it needs of the object it names: read it (r), change its attributes (w), its ACL read or
 * changed (its owner, or a bucket owner given full control), or to be its or its bucket's owner.
 */
type ObjectNeed = 'read' | 'write' | 'acl' | 'owners';

interface Requirement {
  bucket: BucketNeed;
  object?: ObjectNeed;
  /** Continues a multipart upload: its initiator's, or the bucket owner's. */
  upload?: true;
}

const list: Requirement = { bucket: 'list' };
const write: Requirement = { bucket: 'write' };
const owner: Requirement = { bucket: 'owner' };
const read: Requirement = { bucket: 'reach', object: 'read' };

/** Per action: Alluxio's requirement, and S3's where it differs. */
const REQUIREMENTS: Record<string, { alluxio: Requirement; s3?: Requirement }> = {
  HeadBucket: { alluxio: list },
  ListObjects: { alluxio: list },
  ListObjectsV2: { alluxio: list },
  ListObjectVersions: { alluxio: list },
  ListMultipartUploads: { alluxio: list },
  GetBucketLocation: { alluxio: list, s3: owner },
  GetBucketVersioning: { alluxio: list, s3: owner },
  GetBucketTagging: { alluxio: list, s3: owner },
  GetBucketAcl: { alluxio: list, s3: owner },
  PutBucketTagging: { alluxio: write, s3: owner },
  DeleteBucketTagging: { alluxio: write, s3: owner },
  PutBucketAcl: { alluxio: owner },
  DeleteBucket: { alluxio: owner },
  PutObject: { alluxio: write },
  CopyObject: { alluxio: write },
  CreateMultipartUpload: { alluxio: write },
  DeleteObject: { alluxio: write },
  DeleteObjects: { alluxio: write },
  UploadPart: { alluxio: { bucket: 'write', upload: true } },
  UploadPartCopy: { alluxio: { bucket: 'write', upload: true } },
  CompleteMultipartUpload: { alluxio: { bucket: 'write', upload: true } },
  AbortMultipartUpload: { alluxio: { bucket: 'reach', upload: true } },
  ListParts: { alluxio: { bucket: 'reach', upload: true } },
  GetObject: { alluxio: read },
  HeadObject: { alluxio: read },
  GetObjectAttributes: { alluxio: read },
  GetObjectTagging: { alluxio: read, s3: { bucket: 'reach', object: 'owners' } },
  PutObjectTagging: { alluxio: { bucket: 'reach', object: 'write' }, s3: { bucket: 'reach', object: 'owners' } },
  DeleteObjectTagging: { alluxio: { bucket: 'reach', object: 'write' }, s3: { bucket: 'reach', object: 'owners' } },
  GetObjectAcl: { alluxio: read, s3: { bucket: 'reach', object: 'acl' } },
  PutObjectAcl: { alluxio: { bucket: 'reach', object: 'acl' } },
};

const BUCKET_BITS: Record<Exclude<BucketNeed, 'owner'>, number> = { list: READ | EXECUTE, reach: EXECUTE, write: WRITE | EXECUTE };

/** The bucket as permissions see it. */
interface CheckedBucket {
  info: BucketInfo;
  owned: Required<Owned>;
}

/** What the handler runs with once the request is authorized: who it acts as, and its view of the namespace. */
export interface Authorized {
  /** Recorded as the owner of what the request creates (an anonymous writer's objects are the bucket owner's). */
  user: string;
  namespace: Namespace;
}

/**
 * Authorizes an action before its handler runs (AccessDenied otherwise). Undefined for a caller
 * nothing is checked for: the superuser, or any named user without --permissions.
 */
export async function authorize(
  services: Services,
  caller: Caller,
  target: RequestTarget,
  action: string,
  copySource: string | string[] | undefined,
): Promise<Authorized | undefined> {
  if (caller.superuser) return undefined;
  const settings = services.config;
  const { namespace } = services;
  if (target.bucket === undefined) {
    if (caller.anonymous) throw accessDenied(); // ListBuckets: the buckets of whom?
    return undefined;
  }
  const bucketName = nameOf(target.bucket);
  if (bucketName === undefined) return undefined; // the handler reports the invalid name
  if (action === 'CreateBucket') {
    if (caller.anonymous) throw accessDenied(undefined, { bucket: bucketName });
    // A sub-directory bucket is made inside another bucket: that takes writing in it.
    const segments = bucketSegments(bucketName);
    if (segments.length > 1) {
      const parent = await bucketOf(namespace, settings, segments.slice(0, -1).join(':') as BucketName);
      if (parent) requireBucket(caller, parent, 'write');
    }
    return undefined;
  }
  const bucket = await bucketOf(namespace, settings, bucketName);
  if (!bucket) throw noSuchBucket(bucketName);
  const requirement = requirementOf(action, followsS3(settings));
  requireBucket(caller, bucket, requirement.bucket);
  const reads = new Map<string, KeyRule>();
  const key = target.key === undefined ? undefined : keyOf(target.key);
  if (key !== undefined) {
    reads.set(`${bucketName}/${key}`, objectRule(caller, bucket, settings, requirement.object));
    if (requirement.upload) await requireUpload(namespace, caller, bucket, key, target.query.get('uploadId'));
  }
  if (typeof copySource === 'string') {
    const source = sourceOf(copySource);
    const sourceBucket = source && (await bucketOf(namespace, settings, source.bucket));
    if (source && !sourceBucket) throw noSuchBucket(source.bucket);
    if (source && sourceBucket) {
      requireBucket(caller, sourceBucket, 'reach');
      reads.set(`${source.bucket}/${source.key}`, objectRule(caller, sourceBucket, settings, 'read'));
    }
  }
  const guarded = new GuardedObjects(namespace.objects, { bucket: bucketName, key: action === 'DeleteObjects' ? '*' : key, reads });
  return { user: caller.anonymous ? bucket.info.owner : caller.user, namespace: namespace.withObjects(guarded) };
}

function requirementOf(action: string, s3: boolean): Requirement {
  const entry = REQUIREMENTS[action];
  // An action missing from the table is its bucket owner's alone.
  if (!entry) return owner;
  return (s3 ? entry.s3 : undefined) ?? entry.alluxio;
}

function nameOf(text: string): BucketName | undefined {
  try {
    return parseBucketName(text);
  } catch {
    return undefined;
  }
}

function keyOf(text: string): ObjectKey | undefined {
  try {
    return parseObjectKey(text);
  } catch {
    return undefined; // the handler reports the invalid key
  }
}

function sourceOf(text: string): { bucket: BucketName; key: ObjectKey } | undefined {
  try {
    return parseCopySource(text);
  } catch {
    return undefined; // the handler reports the malformed header
  }
}

async function bucketOf(namespace: Namespace, settings: PermissionSettings, name: BucketName): Promise<CheckedBucket | undefined> {
  const info = await namespace.buckets.info(name).catch((e: unknown) => {
    if (e instanceof S3Error && e.code === 'NoSuchBucket') return undefined;
    if (isCode(e, 'ENOENT')) return undefined;
    throw e;
  });
  if (!info) return undefined;
  return { info, owned: { owner: info.owner, permissions: effectivePermissions(settings, 'bucket', info) } };
}

function bucketAllows(caller: Caller, bucket: CheckedBucket, need: BucketNeed): boolean {
  const { owner: who, permissions } = bucket.owned;
  return need === 'owner' ? controls(caller, who, permissions) : allows(caller, who, permissions, BUCKET_BITS[need]);
}

function requireBucket(caller: Caller, bucket: CheckedBucket, need: BucketNeed): void {
  if (!bucketAllows(caller, bucket, need)) throw accessDenied(undefined, { bucket: bucket.info.name });
}

/** The rule of a key the action names: what the object must allow, and how its absence is told. */
function objectRule(caller: Caller, bucket: CheckedBucket, settings: PermissionSettings, need: ObjectNeed | undefined): KeyRule {
  const mayList = bucketAllows(caller, bucket, 'list');
  return {
    check: (owned) => {
      if (need === undefined) return;
      const permissions = effectivePermissions(settings, 'object', owned);
      const ok =
        need === 'read'
          ? allows(caller, owned.owner, permissions, READ)
          : need === 'write'
            ? allows(caller, owned.owner, permissions, WRITE)
            : need === 'acl'
              ? controls(caller, owned.owner, permissions)
              : controls(caller, owned.owner, permissions) || controls(caller, bucket.info.owner, bucket.owned.permissions);
      if (!ok) throw accessDenied();
    },
    // S3's rule: without the right to list the bucket, a missing key is AccessDenied, so that
    // absence tells nothing.
    missing: (error) => (mayList ? error : accessDenied()),
  };
}

/** A multipart upload is continued, listed or aborted by its initiator or the bucket's owner. */
async function requireUpload(namespace: Namespace, caller: Caller, bucket: CheckedBucket, key: ObjectKey, uploadId: string | null) {
  if (uploadId === null || uploadId === '') return; // the handler reports it
  const found = await namespace.uploads.locate(uploadId, bucket.info.name, key).catch(() => undefined);
  if (!found || found.state === 'done') return; // the handler answers NoSuchUpload, or the completed result
  if (caller.user === found.record.owner && !caller.anonymous) return;
  if (!controls(caller, bucket.info.owner, bucket.owned.permissions)) throw accessDenied();
}
