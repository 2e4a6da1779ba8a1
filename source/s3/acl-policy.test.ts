// Canned ACLs, grant headers and AccessControlPolicy documents to permissions and back, and what
// callers of each class get from them.
import t from 'tap';
import { parseXml } from '../http/request-xml';
import { xmlDocument } from '../http/xml';
import { ALL_USERS, AUTHENTICATED_USERS, grantsFrom, grantsOf, parsePolicy, permissionsOf, policyNodes, requestedAcl } from './acl-policy';
import { allows, bitsOf, controls, defaultPermissions, type Caller, type Kind } from './permissions';

const alice: Caller = { user: 'alice', superuser: false, anonymous: false };
const bob: Caller = { user: 'bob', superuser: false, anonymous: false };
const nobody: Caller = { user: '', superuser: false, anonymous: true };
const root: Caller = { user: 'root', superuser: true, anonymous: false };

const canned = (name: string, kind: Kind, owner = 'alice', bucketOwner = 'alice') =>
  permissionsOf(kind, grantsFrom(requestedAcl({ 'x-amz-acl': name })!, kind, owner, bucketOwner));

t.test('canned ACLs as mode bits', async (t) => {
  t.same(canned('private', 'bucket'), { mode: 0o711, anonymous: 1 }, 'a private bucket: others reach objects by name, list nothing');
  t.same(canned('private', 'object'), { mode: 0o600, anonymous: 0 });
  t.same(canned('public-read', 'bucket'), { mode: 0o755, anonymous: 5 });
  t.same(canned('public-read', 'object'), { mode: 0o644, anonymous: 4 });
  t.same(canned('public-read-write', 'bucket'), { mode: 0o777, anonymous: 7 });
  t.same(canned('public-read-write', 'object'), { mode: 0o666, anonymous: 6 });
  t.same(canned('authenticated-read', 'bucket'), { mode: 0o755, anonymous: 1 });
  t.same(canned('authenticated-read', 'object'), { mode: 0o644, anonymous: 0 });
  t.same(canned('bucket-owner-read', 'bucket'), canned('private', 'bucket'), 'ignored on buckets, as S3 does');
  t.same(canned('bucket-owner-read', 'object', 'bob', 'alice'), { mode: 0o600, anonymous: 0, users: { alice: 4 } });
  t.same(canned('bucket-owner-full-control', 'object', 'bob', 'alice'), { mode: 0o600, anonymous: 0, users: { alice: 7 } });
  t.same(canned('bucket-owner-full-control', 'object'), canned('private', 'object'), 'the writer owns the bucket: private');
});

t.test('who gets what', async (t) => {
  const publicObject = canned('public-read', 'object');
  t.ok(allows(bob, 'alice', publicObject, 4), 'another user reads a public-read object');
  t.ok(allows(nobody, 'alice', publicObject, 4), 'so does an anonymous request');
  t.notOk(allows(bob, 'alice', publicObject, 2), 'nobody else writes it');
  const authenticated = canned('authenticated-read', 'object');
  t.ok(allows(bob, 'alice', authenticated, 4));
  t.notOk(allows(nobody, 'alice', authenticated, 4), 'authenticated-read: not anonymous requests');
  const shared = canned('bucket-owner-read', 'object', 'bob', 'alice');
  t.equal(bitsOf(alice, 'bob', shared), 4, 'the bucket owner reads what bob wrote');
  t.notOk(controls(alice, 'bob', shared), 'but may not change its ACL');
  t.ok(controls(alice, 'bob', canned('bucket-owner-full-control', 'object', 'bob', 'alice')), 'unless given full control');
  t.equal(bitsOf({ user: 'carol', superuser: false, anonymous: false }, 'bob', shared), 0, 'others nothing');
  t.equal(bitsOf(root, 'alice', canned('private', 'object')), 7, 'the superuser may do everything');
  t.ok(controls(alice, 'alice', canned('private', 'object')));
  t.notOk(controls(nobody, 'alice', canned('public-read-write', 'bucket')), 'anonymous requests never change ACLs');
});

t.test("defaults: Alluxio's umask in SIMPLE mode, S3's private otherwise", async (t) => {
  const simple = { auth: 'simple', compat: 'alluxio', permissions: { enabled: true, umask: 0o022 } } as const;
  t.same(defaultPermissions(simple, 'bucket'), { mode: 0o755, anonymous: 1 });
  t.same(defaultPermissions(simple, 'object'), { mode: 0o644, anonymous: 0 });
  t.same(defaultPermissions({ ...simple, permissions: { enabled: true, umask: 0o077 } }, 'bucket'), { mode: 0o700, anonymous: 0 });
  t.same(defaultPermissions({ ...simple, compat: 's3' }, 'object'), { mode: 0o600, anonymous: 0 });
  t.same(defaultPermissions({ ...simple, auth: 'sigv4' }, 'bucket'), { mode: 0o711, anonymous: 1 });
});

t.test('x-amz-acl and x-amz-grant-* headers', async (t) => {
  t.equal(requestedAcl({}), undefined);
  const invalid = { code: 'InvalidArgument', fields: { ArgumentName: 'x-amz-acl', ArgumentValue: 'public' } };
  t.throws(() => requestedAcl({ 'x-amz-acl': 'public' }), invalid);
  t.throws(() => requestedAcl({ 'x-amz-acl': 'log-delivery-write' }), { code: 'NotImplemented' });
  t.throws(() => requestedAcl({ 'x-amz-acl': 'private', 'x-amz-grant-read': `uri="${ALL_USERS}"` }), { code: 'InvalidRequest' });
  const headers = { 'x-amz-grant-read': `uri="${ALL_USERS}", id="alice"`, 'x-amz-grant-write': `uri=${AUTHENTICATED_USERS}` };
  t.throws(() => grantsFrom(requestedAcl(headers)!, 'object', 'alice', 'alice'), { code: 'NotImplemented' }, 'the owner has READ already');
  const grants = grantsFrom(requestedAcl({ ...headers, 'x-amz-grant-read': `uri="${ALL_USERS}"` })!, 'bucket', 'alice', undefined);
  t.same(grants, { allUsers: 4, authenticatedUsers: 2, users: {} });
  t.throws(() => grantsFrom(requestedAcl({ 'x-amz-grant-read': 'emailAddress="a@b.c"' })!, 'object', 'a', 'a'), { code: 'NotImplemented' });
  const writeAcp = requestedAcl({ 'x-amz-grant-write-acp': `uri="${ALL_USERS}"` })!;
  t.throws(() => grantsFrom(writeAcp, 'object', 'a', 'a'), { code: 'NotImplemented' });
  t.throws(() => requestedAcl({ 'x-amz-grant-read': 'who=me' }), { code: 'InvalidArgument' });
});

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x"';
const grant = (grantee: string, permission: string): string =>
  `<Grant><Grantee ${XSI}>${grantee}</Grantee><Permission>${permission}</Permission></Grant>`;
const policy = (owner: string, ...grants: string[]): ReturnType<typeof parseXml> =>
  parseXml(
    `<AccessControlPolicy><Owner><ID>${owner}</ID></Owner><AccessControlList>${grants.join('')}</AccessControlList></AccessControlPolicy>`,
  );

t.test('AccessControlPolicy documents: what canned ACLs express, and 501 for the rest', async (t) => {
  const full = grant('<ID>alice</ID>', 'FULL_CONTROL');
  const publicRead = grant(`<URI>${ALL_USERS}</URI>`, 'READ');
  const publicGrants = grantsFrom(parsePolicy(policy('alice', full, publicRead)), 'object', 'alice', 'alice');
  t.same(publicGrants, { allUsers: 4, authenticatedUsers: 0, users: {} });
  const shared = policy('bob', grant('<ID>bob</ID>', 'FULL_CONTROL'), grant('<ID>alice</ID>', 'READ'));
  t.same(grantsFrom(parsePolicy(shared), 'object', 'bob', 'alice'), { allUsers: 0, authenticatedUsers: 0, users: { alice: 4 } });
  const refused: [string, ReturnType<typeof parseXml>][] = [
    ['the owner without FULL_CONTROL', policy('alice', publicRead)],
    ['another owner', policy('bob', grant('<ID>bob</ID>', 'FULL_CONTROL'))],
    ['a grant to another user', policy('alice', full, grant('<ID>carol</ID>', 'READ'))],
    ['READ_ACP to everyone', policy('alice', full, grant(`<URI>${ALL_USERS}</URI>`, 'READ_ACP'))],
    ['the log delivery group', policy('alice', full, grant('<URI>http://acs.amazonaws.com/groups/s3/LogDelivery</URI>', 'WRITE'))],
  ];
  for (const [what, document] of refused) {
    t.throws(() => grantsFrom(parsePolicy(document), 'object', 'alice', 'alice'), { code: 'NotImplemented' }, what);
  }
  t.throws(() => parsePolicy(parseXml('<AccessControlPolicy/>')), { code: 'MalformedXML' });
  t.throws(() => parsePolicy(policy('alice', grant('<ID>alice</ID>', 'EVERYTHING'))), { code: 'MalformedXML' });
  t.throws(() => parsePolicy(policy('alice', grant('<Nobody/>', 'READ'))), { code: 'MalformedXML' });
});

t.test('permissions back to a policy, and a round trip', async (t) => {
  for (const name of ['private', 'public-read', 'public-read-write', 'authenticated-read']) {
    for (const kind of ['bucket', 'object'] as const) {
      const permissions = canned(name, kind);
      const document = parseXml(xmlDocument('AccessControlPolicy', policyNodes('alice', permissions)));
      t.same(permissionsOf(kind, grantsFrom(parsePolicy(document), kind, 'alice', 'alice')), permissions, `${name} ${kind}`);
    }
  }
  const alluxioDefault = grantsOf({ mode: 0o644, anonymous: 0 });
  t.same(alluxioDefault, { allUsers: 0, authenticatedUsers: 4, users: {} }, "Alluxio's 0644: AuthenticatedUsers READ");
  const xml = xmlDocument('AccessControlPolicy', policyNodes('alice', canned('public-read', 'object')));
  t.match(xml, /<Grantee xmlns:xsi="http:\/\/www.w3.org\/2001\/XMLSchema-instance" xsi:type="CanonicalUser"><ID>alice<\/ID>/);
  t.match(xml, new RegExp(`xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission>`));
});
