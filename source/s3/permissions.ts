// Permissions as sluice checks them: Alluxio's model (an owner and POSIX mode bits; the superuser
// may do everything), with the two things S3's canned ACLs need besides: the bits of requests that
// name no user (AllUsers, --auth sigv4), and a bucket's owner named on an object someone else wrote.
// Here: the bits, the defaults of what has none recorded, and what a caller has on a thing.
import type { Config } from '../config/config';
import type { Permissions } from '../namespace';

export const READ = 4;
export const WRITE = 2;
export const EXECUTE = 1;
/** A named user's bits that are S3's FULL_CONTROL: the object's bytes and its permissions. */
export const FULL_CONTROL = 7;

export type Kind = 'bucket' | 'object';

/** Who is asking, as permissions see it. */
export interface Caller {
  user: string;
  /** May do everything: the server's user in SIMPLE mode, `admin` credentials, or every named user without checks. */
  superuser: boolean;
  /** Names no user (--auth sigv4 only): gets the anonymous bits. */
  anonymous: boolean;
}

/** A bucket or an object as permissions see it. */
export interface Owned {
  owner: string;
  permissions?: Permissions | undefined;
}

export type PermissionSettings = Pick<Config, 'auth' | 'compat' | 'permissions'>;

/**
 * The owner's alone, as S3 makes buckets and objects by default. Other users (and anonymous
 * requests) may still reach a private bucket's objects by name (x): a public-read object in a
 * private bucket is readable, as in S3, though the bucket cannot be listed.
 */
export const PRIVATE: Readonly<Record<Kind, Permissions>> = {
  bucket: { mode: 0o711, anonymous: EXECUTE },
  object: { mode: 0o600, anonymous: 0 },
};

/**
 * Whose model decides: S3's under --auth sigv4 (S3's own authentication) or --compat s3; else
 * Alluxio's, which SIMPLE mode's user names are made for.
 */
export function followsS3(settings: PermissionSettings): boolean {
  return settings.auth === 'sigv4' || settings.compat === 's3';
}

/** What new buckets and objects get: S3's private, or Alluxio's defaults less the umask. */
export function defaultPermissions(settings: PermissionSettings, kind: Kind): Permissions {
  if (followsS3(settings)) return PRIVATE[kind];
  const mode = (kind === 'bucket' ? 0o777 : 0o666) & ~settings.permissions.umask;
  return { mode, anonymous: kind === 'bucket' ? mode & EXECUTE : 0 };
}

/**
 * The permissions in force: as recorded, or for what has none (files and directories of other
 * programs, records older than permissions) the defaults, as if sluice had made it. Not the file's
 * own mode bits: they speak of the system's users, not sluice's, and a cache tier's copy of a file
 * could not tell them.
 */
export function effectivePermissions(settings: PermissionSettings, kind: Kind, owned: Owned): Permissions {
  return owned.permissions ?? defaultPermissions(settings, kind);
}

/** The bits `caller` has, POSIX's way: the owner's class; else a named user's entry; else other's. */
export function bitsOf(caller: Caller, owner: string, permissions: Permissions): number {
  if (caller.superuser) return 7;
  if (caller.anonymous) return permissions.anonymous & 7;
  if (caller.user === owner) return (permissions.mode >> 6) & 7;
  return permissions.users?.[caller.user] ?? permissions.mode & 7;
}

/** True when `caller` has every bit of `bits`. */
export function allows(caller: Caller, owner: string, permissions: Permissions, bits: number): boolean {
  return (bitsOf(caller, owner, permissions) & bits) === bits;
}

/** Who may change permissions (chmod, S3's WRITE_ACP): the owner, a named user with full control, the superuser. */
export function controls(caller: Caller, owner: string, permissions: Permissions): boolean {
  if (caller.superuser) return true;
  if (caller.anonymous) return false;
  return caller.user === owner || permissions.users?.[caller.user] === FULL_CONTROL;
}
