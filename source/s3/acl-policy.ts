// S3's ACLs, as far as sluice's permissions express them: canned ACLs (x-amz-acl), grant headers
// (x-amz-grant-*) and AccessControlPolicy documents, to permissions and back. What they express:
// the owner's FULL_CONTROL, READ or WRITE for AllUsers or AuthenticatedUsers, and on objects READ or
// FULL_CONTROL for the bucket's owner. Anything else is NotImplemented, never silently dropped.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error, invalidArgument } from '../errors';
import { headerValue } from '../http/headers';
import { child, childrenNamed, type XmlElement } from '../http/request-xml';
import type { XmlNode } from '../http/xml';
import type { Permissions } from '../namespace';
import { userNodes } from './owners';
import { EXECUTE, FULL_CONTROL, READ, WRITE, type Kind } from './permissions';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** What an ACL grants besides the owner's full control: READ and WRITE bits per class of caller. */
export interface Grants {
  allUsers: number;
  authenticatedUsers: number;
  /** Named users (only ever a bucket's owner, on an object): READ or FULL_CONTROL. */
  users: Record<string, number>;
}

const none = (): Grants => ({ allUsers: 0, authenticatedUsers: 0, users: {} });

type CannedAcl = 'private' | 'public-read' | 'public-read-write' | 'authenticated-read' | 'bucket-owner-read' | 'bucket-owner-full-control';

/** The canned ACLs, by what they grant (`bucketOwner` is named only on objects, as S3 ignores these two on buckets). */
const CANNED: Record<CannedAcl, (bucketOwner: string | undefined) => Grants> = {
  private: none,
  'public-read': () => ({ ...none(), allUsers: READ }),
  'public-read-write': () => ({ ...none(), allUsers: READ | WRITE }),
  'authenticated-read': () => ({ ...none(), authenticatedUsers: READ }),
  'bucket-owner-read': (bucketOwner) => ({ ...none(), users: bucketOwner ? { [bucketOwner]: READ } : {} }),
  'bucket-owner-full-control': (bucketOwner) => ({ ...none(), users: bucketOwner ? { [bucketOwner]: FULL_CONTROL } : {} }),
};

/** Valid in S3, but they grant to principals sluice does not have (EC2, the log delivery group). */
const UNSUPPORTED_CANNED = ['aws-exec-read', 'log-delivery-write'];

/** Permissions from grants: the owner's full control, others' READ/WRITE as mode bits; a bucket stays reachable by name (x). */
export function permissionsOf(kind: Kind, grants: Grants): Permissions {
  const reach = kind === 'bucket' ? EXECUTE : 0;
  const other = grants.allUsers | grants.authenticatedUsers | reach;
  const owner = kind === 'bucket' ? 7 : READ | WRITE;
  const users = Object.keys(grants.users).length > 0 ? { users: grants.users } : {};
  return { mode: (owner << 6) | (other << 3) | other, anonymous: grants.allUsers | reach, ...users };
}

/** The grants that permissions amount to, for an AccessControlPolicy. */
export function grantsOf(permissions: Permissions): Grants {
  const all = permissions.anonymous & (READ | WRITE);
  return { allUsers: all, authenticatedUsers: permissions.mode & (READ | WRITE) & ~all, users: permissions.users ?? {} };
}

/** One grant as a request names it. */
interface NamedGrant {
  type: 'CanonicalUser' | 'Group' | 'Email';
  name: string;
  permission: string;
}

/**
 * An ACL a request sets: a canned name; or grants, from x-amz-grant-* headers (the owner keeps
 * full control, as with canned ACLs) or from an AccessControlPolicy document (which must say so).
 */
export type RequestedAcl = { canned: CannedAcl } | { grants: NamedGrant[]; document?: { owner: string | undefined } };

const GRANT_HEADERS: [string, string][] = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];
const PERMISSIONS = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'];

const notImplemented = (what: string): S3Error => new S3Error('NotImplemented', `${what} is not implemented by sluice.`);

/** The x-amz-acl or x-amz-grant-* headers of a request (400 for an unknown canned ACL); undefined when it has none. */
export function requestedAcl(headers: IncomingHttpHeaders): RequestedAcl | undefined {
  const canned = headerValue(headers, 'x-amz-acl')?.trim();
  const granted = GRANT_HEADERS.filter(([name]) => headerValue(headers, name) !== undefined);
  if (canned !== undefined && granted.length > 0) {
    throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  if (canned !== undefined) {
    if (Object.hasOwn(CANNED, canned)) return { canned: canned as CannedAcl };
    if (UNSUPPORTED_CANNED.includes(canned)) throw notImplemented(`The canned ACL "${canned}"`);
    throw invalidArgument(`Unknown canned ACL "${canned}".`, 'x-amz-acl', canned);
  }
  if (granted.length === 0) return undefined;
  const grants: NamedGrant[] = [];
  for (const [name, permission] of granted) {
    for (const grantee of headerValue(headers, name)!.split(',')) {
      const match = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(grantee);
      if (!match) throw invalidArgument(`The grantee "${grantee.trim()}" is not of the form id="..." or uri="...".`, name);
      const field = match[1]!.toLowerCase();
      grants.push({ type: field === 'uri' ? 'Group' : field === 'id' ? 'CanonicalUser' : 'Email', name: match[2]!, permission });
    }
  }
  return { grants };
}

/** An AccessControlPolicy document, as written (what it grants is checked by `grantsFrom`). */
export function parsePolicy(root: XmlElement): RequestedAcl {
  const list = root.name === 'AccessControlPolicy' ? child(root, 'AccessControlList') : undefined;
  if (!list) throw new S3Error('MalformedXML');
  const ownerElement = child(root, 'Owner');
  const grants = childrenNamed(list, 'Grant').map((grant): NamedGrant => {
    const grantee = child(grant, 'Grantee');
    const permission = child(grant, 'Permission')?.text.trim() ?? '';
    if (!grantee || !PERMISSIONS.includes(permission)) throw new S3Error('MalformedXML');
    const [type, element] = (
      [
        ['CanonicalUser', 'ID'],
        ['Group', 'URI'],
        ['Email', 'EmailAddress'],
      ] as const
    ).find(([, name]) => child(grantee, name) !== undefined) ?? [undefined, undefined];
    if (!type) throw new S3Error('MalformedXML');
    return { type, name: child(grantee, element)!.text.trim(), permission };
  });
  return { grants, document: { owner: ownerElement ? child(ownerElement, 'ID')?.text.trim() : undefined } };
}

/**
 * What an ACL grants a thing of `kind` owned by `owner` (`bucketOwner`: its bucket's, for an
 * object), or 501 for what sluice cannot express: the owner keeps FULL_CONTROL and stays the owner.
 */
export function grantsFrom(acl: RequestedAcl, kind: Kind, owner: string, bucketOwner: string | undefined): Grants {
  const other = kind === 'object' && bucketOwner !== owner ? bucketOwner : undefined;
  if ('canned' in acl) return CANNED[acl.canned](other);
  const named = acl.document?.owner;
  if (named !== undefined && named !== owner) throw notImplemented('Changing the owner');
  const grants = none();
  let ownerFull = acl.document === undefined;
  for (const grant of acl.grants) {
    if (grant.type === 'CanonicalUser' && grant.name === owner && grant.permission === 'FULL_CONTROL') ownerFull = true;
    else addGrant(grants, grant, other);
  }
  if (!ownerFull) throw notImplemented('An ACL that does not give the owner FULL_CONTROL');
  return grants;
}

/** One grant, added if sluice can express it (501 otherwise); `bucketOwner` is named only on others' objects. */
function addGrant(grants: Grants, grant: NamedGrant, bucketOwner: string | undefined): void {
  const { type, name, permission } = grant;
  const bits = permission === 'READ' ? READ : permission === 'WRITE' ? WRITE : undefined;
  if (type === 'Group' && bits !== undefined && (name === ALL_USERS || name === AUTHENTICATED_USERS)) {
    if (name === ALL_USERS) grants.allUsers |= bits;
    else grants.authenticatedUsers |= bits;
    return;
  }
  if (type === 'CanonicalUser' && name === bucketOwner && (permission === 'READ' || permission === 'FULL_CONTROL')) {
    grants.users[name] = permission === 'READ' ? READ : FULL_CONTROL;
    return;
  }
  throw notImplemented(`Granting ${permission} to ${type === 'Group' ? name : `${type} ${name}`}`);
}

function grantNode(grantee: XmlNode[], type: 'CanonicalUser' | 'Group', permission: string): XmlNode {
  return ['Grant', [['Grantee', grantee, { 'xmlns:xsi': XSI, 'xsi:type': type }], ['Permission', permission]]];
}

/** The AccessControlPolicy document of a thing owned by `owner` with these permissions. */
export function policyNodes(owner: string, permissions: Permissions): XmlNode[] {
  const grants = grantsOf(permissions);
  const list: XmlNode[] = [grantNode(userNodes(owner), 'CanonicalUser', 'FULL_CONTROL')];
  for (const [uri, bits] of [
    [ALL_USERS, grants.allUsers],
    [AUTHENTICATED_USERS, grants.authenticatedUsers],
  ] as const) {
    if (bits & READ) list.push(grantNode([['URI', uri]], 'Group', 'READ'));
    if (bits & WRITE) list.push(grantNode([['URI', uri]], 'Group', 'WRITE'));
  }
  for (const [user, bits] of Object.entries(grants.users)) {
    list.push(grantNode(userNodes(user), 'CanonicalUser', bits === FULL_CONTROL ? 'FULL_CONTROL' : 'READ'));
  }
  return [
    ['Owner', userNodes(owner)],
    ['AccessControlList', list],
  ];
}
