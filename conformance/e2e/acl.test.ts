// Canned ACLs as tools use them, under --auth sigv4 (S3's model: private by default; public-read
// objects and buckets readable anonymously) with boto3, the aws cli and raw HTTP: x-amz-acl on
// CreateBucket, PutObject, CopyObject and CreateMultipartUpload, Get/PutBucketAcl and
// Get/PutObjectAcl with canned headers, grant headers and AccessControlPolicy documents.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { errorCode, lastJson, rawRequest, run, startSluice, tempDir, xmlValue, type Sluice } from '../lib/harness';

const CREDENTIALS = 'AKALICE alice-secret alice\nAKBOB bob-secret bob\n';

/** boto3 clients for alice, bob and an unsigned one; the script prints one JSON line. */
async function py(server: Sluice, script: string): Promise<Record<string, unknown>> {
  const prelude = `
import boto3, botocore, json, io, urllib.request, urllib.error
from botocore import UNSIGNED
from botocore.config import Config
def client(key=None, secret=None):
    config = Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}, signature_version=UNSIGNED if key is None else None)
    return boto3.client('s3', endpoint_url=${JSON.stringify(server.url)}, aws_access_key_id=key, aws_secret_access_key=secret,
        region_name='us-east-1', config=config)
alice, bob, anon = client('AKALICE', 'alice-secret'), client('AKBOB', 'bob-secret'), client()
def code(f):
    try:
        f(); return 'OK'
    except botocore.exceptions.ClientError as e:
        return e.response['Error']['Code']
def http(path):
    try:
        return urllib.request.urlopen(${JSON.stringify(server.url)} + path).status
    except urllib.error.HTTPError as e:
        return e.code
def grants(acl):
    return sorted('%s:%s' % (g['Grantee'].get('URI', g['Grantee'].get('ID')).split('/')[-1], g['Permission']) for g in acl['Grants'])
`;
  return lastJson(await run('python3', ['-c', prelude + script]));
}

async function sigv4Server(t: Test): Promise<Sluice> {
  const credentials = join(tempDir('sluice-acl-'), 'credentials');
  writeFileSync(credentials, CREDENTIALS);
  const server = await startSluice({ args: ['--auth', 'sigv4', '--credentials', credentials] });
  t.teardown(() => server.stop());
  return server;
}

t.test('canned ACLs on every write, and who may then read', async (t) => {
  const server = await sigv4Server(t);
  const out = await py(
    server,
    `
r = {}
alice.create_bucket(Bucket='private-b')
alice.create_bucket(Bucket='public-b', ACL='public-read')
alice.put_object(Bucket='private-b', Key='secret', Body=b's')
alice.put_object(Bucket='private-b', Key='public', Body=b'p', ACL='public-read')
alice.put_object(Bucket='private-b', Key='members', Body=b'm', ACL='authenticated-read')
alice.put_object(Bucket='public-b', Key='listed-but-private', Body=b'l')
alice.copy_object(Bucket='private-b', Key='copied', CopySource='private-b/secret', ACL='public-read')
up = alice.create_multipart_upload(Bucket='private-b', Key='multi', ACL='public-read')
etag = alice.upload_part(Bucket='private-b', Key='multi', UploadId=up['UploadId'], PartNumber=1, Body=b'mp')['ETag']
alice.complete_multipart_upload(Bucket='private-b', Key='multi', UploadId=up['UploadId'], MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': etag}]})
alice.upload_fileobj(io.BytesIO(b'u'), 'private-b', 'uploaded', ExtraArgs={'ACL': 'public-read'})
for key in ['secret', 'public', 'members', 'copied', 'multi', 'uploaded', 'missing']:
    r['anon_' + key] = http('/private-b/' + key)
    r['bob_' + key] = code(lambda: bob.get_object(Bucket='private-b', Key=key))
r['anon_list_private'] = http('/private-b')
r['anon_list_public'] = http('/public-b?list-type=2')
r['boto3_anon_keys'] = [o['Key'] for o in anon.list_objects_v2(Bucket='public-b')['Contents']]
r['anon_public_bucket_object'] = http('/public-b/listed-but-private')
r['anon_public_bucket_missing'] = http('/public-b/missing')
r['anon_no_bucket'] = code(lambda: anon.get_object(Bucket='no-such-bucket', Key='k'))
r['anon_no_bucket_list'] = code(lambda: anon.list_objects_v2(Bucket='no-such-bucket'))
r['anon_buckets'] = code(lambda: anon.list_buckets())
r['anon_put'] = code(lambda: anon.put_object(Bucket='public-b', Key='x', Body=b'x'))
r['bob_put_public'] = code(lambda: bob.put_object(Bucket='public-b', Key='x', Body=b'x'))
r['bob_list_private'] = code(lambda: bob.list_objects_v2(Bucket='private-b'))
r['bob_acl'] = code(lambda: bob.get_object_acl(Bucket='private-b', Key='public'))
r['acl_public'] = grants(alice.get_object_acl(Bucket='private-b', Key='public'))
r['acl_members'] = grants(alice.get_object_acl(Bucket='private-b', Key='members'))
r['acl_secret'] = grants(alice.get_object_acl(Bucket='private-b', Key='secret'))
r['acl_owner'] = alice.get_object_acl(Bucket='private-b', Key='secret')['Owner']['ID']
r['acl_bucket'] = grants(alice.get_bucket_acl(Bucket='public-b'))
r['acl_private_bucket'] = grants(alice.get_bucket_acl(Bucket='private-b'))
r['types'] = sorted(g['Grantee']['Type'] for g in alice.get_object_acl(Bucket='private-b', Key='public')['Grants'])
for op, f in [
    ('create_bucket', lambda: alice.create_bucket(Bucket='bad-acl', ACL='public')),
    ('put_object', lambda: alice.put_object(Bucket='private-b', Key='bad', Body=b'b', ACL='public')),
    ('copy_object', lambda: alice.copy_object(Bucket='private-b', Key='bad', CopySource='private-b/secret', ACL='everyone')),
    ('create_multipart_upload', lambda: alice.create_multipart_upload(Bucket='private-b', Key='bad', ACL='nobody')),
]:
    r['invalid_' + op] = code(f)
r['bad_written'] = code(lambda: alice.head_object(Bucket='private-b', Key='bad'))
r['log_delivery'] = code(lambda: alice.put_object(Bucket='private-b', Key='bad', Body=b'b', ACL='log-delivery-write'))
print(json.dumps(r))
`,
  );
  for (const key of ['public', 'copied', 'multi', 'uploaded']) {
    t.equal(out[`anon_${key}`], 200, `public-read ${key}: anonymous GET`);
    t.equal(out[`bob_${key}`], 'OK', `public-read ${key}: bob`);
  }
  t.equal(out.anon_secret, 403, 'private by default: anonymous denied');
  t.equal(out.bob_secret, 'AccessDenied', 'and bob');
  t.equal(out.anon_members, 403, 'authenticated-read: not anonymous');
  t.equal(out.bob_members, 'OK', 'authenticated-read: bob');
  t.equal(out.anon_missing, 403, 'a missing key in a bucket anonymous may not list: 403');
  t.equal(out.bob_missing, 'AccessDenied');
  t.equal(out.anon_list_private, 403, 'a private bucket is not listed');
  t.equal(out.anon_list_public, 200, 'a public-read bucket is listed anonymously');
  t.same(out.boto3_anon_keys, ['listed-but-private'], 'boto3 unsigned lists it');
  t.equal(out.anon_public_bucket_object, 403, 'its objects keep their own ACL');
  t.equal(out.anon_public_bucket_missing, 404, 'who may list hears that a key is missing');
  t.equal(out.anon_no_bucket, 'NoSuchBucket', 'anonymous, a bucket that does not exist: 404 NoSuchBucket');
  t.equal(out.anon_no_bucket_list, 'NoSuchBucket');
  t.equal(out.anon_buckets, 'AccessDenied', 'anonymous ListBuckets');
  t.equal(out.anon_put, 'AccessDenied', 'public-read grants no writing');
  t.equal(out.bob_put_public, 'AccessDenied');
  t.equal(out.bob_list_private, 'AccessDenied');
  t.equal(out.bob_acl, 'AccessDenied', 'READ does not include READ_ACP (S3)');
  t.same(out.acl_public, ['AllUsers:READ', 'alice:FULL_CONTROL']);
  t.same(out.acl_members, ['AuthenticatedUsers:READ', 'alice:FULL_CONTROL']);
  t.same(out.acl_secret, ['alice:FULL_CONTROL']);
  t.equal(out.acl_owner, 'alice');
  t.same(out.acl_bucket, ['AllUsers:READ', 'alice:FULL_CONTROL']);
  t.same(out.acl_private_bucket, ['alice:FULL_CONTROL']);
  t.same(out.types, ['CanonicalUser', 'Group'], 'grantees carry xsi:type, which boto3 reads as Type');
  for (const op of ['create_bucket', 'put_object', 'copy_object', 'create_multipart_upload']) {
    t.equal(out[`invalid_${op}`], 'InvalidArgument', `${op} with an unknown canned ACL`);
  }
  t.equal(out.bad_written, '404', 'nothing was written');
  t.equal(out.log_delivery, 'NotImplemented', 'a canned ACL S3 has but sluice cannot express');
});

t.test('Put*Acl: canned, grant headers, documents; bucket-owner-read and -full-control', async (t) => {
  const server = await sigv4Server(t);
  const out = await py(
    server,
    `
r = {}
alice.create_bucket(Bucket='shared', ACL='public-read-write')
alice.put_object(Bucket='shared', Key='k', Body=b'k')
alice.put_object_acl(Bucket='shared', Key='k', ACL='public-read')
r['after_canned'] = http('/shared/k')
owner = {'ID': 'alice', 'DisplayName': 'alice'}
full = {'Grantee': {'Type': 'CanonicalUser', 'ID': 'alice'}, 'Permission': 'FULL_CONTROL'}
members = {'Grantee': {'Type': 'Group', 'URI': 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'}, 'Permission': 'READ'}
alice.put_object_acl(Bucket='shared', Key='k', AccessControlPolicy={'Owner': owner, 'Grants': [full, members]})
r['doc_anon'] = http('/shared/k')
r['doc_bob'] = code(lambda: bob.get_object(Bucket='shared', Key='k'))
r['doc_grants'] = grants(alice.get_object_acl(Bucket='shared', Key='k'))
carol = {'Grantee': {'Type': 'CanonicalUser', 'ID': 'carol'}, 'Permission': 'READ'}
r['unsupported'] = code(lambda: alice.put_object_acl(Bucket='shared', Key='k', AccessControlPolicy={'Owner': owner, 'Grants': [full, carol]}))
r['no_owner_full'] = code(lambda: alice.put_object_acl(Bucket='shared', Key='k', AccessControlPolicy={'Owner': owner, 'Grants': [members]}))
r['unchanged'] = grants(alice.get_object_acl(Bucket='shared', Key='k'))
r['bob_sets'] = code(lambda: bob.put_object_acl(Bucket='shared', Key='k', ACL='private'))
r['round_trip'] = code(lambda: alice.put_object_acl(Bucket='shared', Key='k', AccessControlPolicy={k: v for k, v in alice.get_object_acl(Bucket='shared', Key='k').items() if k != 'ResponseMetadata'}))

# bob writes into alice's public-read-write bucket: his objects are his.
bob.put_object(Bucket='shared', Key='bobs', Body=b'b')
r['bucket_owner_default'] = code(lambda: alice.get_object(Bucket='shared', Key='bobs'))
bob.put_object(Bucket='shared', Key='bobs-read', Body=b'b', ACL='bucket-owner-read')
r['bucket_owner_read'] = code(lambda: alice.get_object(Bucket='shared', Key='bobs-read'))
r['bucket_owner_read_acl'] = code(lambda: alice.put_object_acl(Bucket='shared', Key='bobs-read', ACL='public-read'))
r['bobs_read_grants'] = grants(bob.get_object_acl(Bucket='shared', Key='bobs-read'))
bob.put_object(Bucket='shared', Key='bobs-full', Body=b'b', ACL='bucket-owner-full-control')
r['bucket_owner_full_acl'] = code(lambda: alice.put_object_acl(Bucket='shared', Key='bobs-full', ACL='public-read'))
r['bobs_full_anon'] = http('/shared/bobs-full')
r['anon_writes'] = code(lambda: anon.put_object(Bucket='shared', Key='anon', Body=b'a'))
r['anon_owner'] = alice.get_object_acl(Bucket='shared', Key='anon')['Owner']['ID']

alice.put_bucket_acl(Bucket='shared', ACL='private')
r['private_again'] = code(lambda: bob.list_objects_v2(Bucket='shared'))
r['bob_bucket_acl'] = code(lambda: bob.put_bucket_acl(Bucket='shared', ACL='public-read-write'))
alice.put_bucket_acl(Bucket='shared', AccessControlPolicy={'Owner': owner, 'Grants': [full, {'Grantee': {'Type': 'Group', 'URI': 'http://acs.amazonaws.com/groups/global/AllUsers'}, 'Permission': 'READ'}]})
r['doc_bucket'] = http('/shared?list-type=2')
r['bucket_grants'] = grants(alice.get_bucket_acl(Bucket='shared'))
print(json.dumps(r))
`,
  );
  t.equal(out.after_canned, 200, 'PutObjectAcl with x-amz-acl');
  t.equal(out.doc_anon, 403, 'an AccessControlPolicy document: AuthenticatedUsers READ');
  t.equal(out.doc_bob, 'OK');
  t.same(out.doc_grants, ['AuthenticatedUsers:READ', 'alice:FULL_CONTROL']);
  t.equal(out.unsupported, 'NotImplemented', 'a grant to another user: 501');
  t.equal(out.no_owner_full, 'NotImplemented', 'an ACL without the owner\'s FULL_CONTROL: 501');
  t.same(out.unchanged, out.doc_grants, 'a refused ACL changes nothing');
  t.equal(out.bob_sets, 'AccessDenied', 'only the owner changes an ACL');
  t.equal(out.round_trip, 'OK', 'what GetObjectAcl answers, PutObjectAcl takes back');
  t.equal(out.bucket_owner_default, 'AccessDenied', "the bucket owner does not read others' private objects (S3)");
  t.equal(out.bucket_owner_read, 'OK', 'bucket-owner-read');
  t.equal(out.bucket_owner_read_acl, 'AccessDenied', 'READ only');
  t.same(out.bobs_read_grants, ['alice:READ', 'bob:FULL_CONTROL']);
  t.equal(out.bucket_owner_full_acl, 'OK', 'bucket-owner-full-control: the bucket owner changes its ACL');
  t.equal(out.bobs_full_anon, 200);
  t.equal(out.anon_writes, 'OK', 'public-read-write: anonymous writes');
  t.equal(out.anon_owner, 'alice', "an anonymous writer's object is the bucket owner's");
  t.equal(out.private_again, 'AccessDenied', 'PutBucketAcl private');
  t.equal(out.bob_bucket_acl, 'AccessDenied');
  t.equal(out.doc_bucket, 200, 'PutBucketAcl with a document: AllUsers READ');
  t.same(out.bucket_grants, ['AllUsers:READ', 'alice:FULL_CONTROL']);
});

t.test('the aws cli: --acl, grant headers, get-object-acl; raw HTTP errors', async (t) => {
  const server = await sigv4Server(t);
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'AKALICE',
    AWS_SECRET_ACCESS_KEY: 'alice-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  const cli = (args: string[]) => run('aws', ['--endpoint', server.url, ...args], env);
  const file = join(tempDir(), 'site.html');
  writeFileSync(file, '<p>hello</p>');
  t.equal((await cli(['s3', 'mb', 's3://site'])).code, 0);
  t.equal((await cli(['s3', 'cp', file, 's3://site/index.html', '--acl', 'public-read'])).code, 0, 'aws s3 cp --acl public-read');
  t.equal((await cli(['s3', 'cp', file, 's3://site/draft.html'])).code, 0);
  t.equal((await rawRequest(server, 'GET', '/site/index.html')).text, '<p>hello</p>', 'served to anyone');
  t.equal((await rawRequest(server, 'GET', '/site/draft.html')).status, 403);
  const grant = await cli(['s3api', 'put-object-acl', '--bucket', 'site', '--key', 'draft.html', '--grant-read', 'uri=http://acs.amazonaws.com/groups/global/AllUsers']);
  t.equal(grant.code, 0, `put-object-acl --grant-read ${grant.stderr}`);
  t.equal((await rawRequest(server, 'GET', '/site/draft.html')).status, 200, 'a grant header');
  const acl = await cli(['s3api', 'get-object-acl', '--bucket', 'site', '--key', 'draft.html']);
  const parsed = JSON.parse(acl.stdout) as { Owner: { ID: string }; Grants: { Grantee: { URI?: string }; Permission: string }[] };
  t.equal(parsed.Owner.ID, 'alice');
  t.ok(parsed.Grants.some((g) => g.Grantee.URI?.endsWith('/AllUsers') && g.Permission === 'READ'), 'get-object-acl shows it');
  const bad = await cli(['s3api', 'put-object-acl', '--bucket', 'site', '--key', 'draft.html', '--grant-read', 'emailAddress=a@example.com']);
  t.match(bad.stderr, /NotImplemented/, 'a grantee sluice has no notion of');

  const badAcl = await rawRequest(server, 'PUT', '/site-bad', { headers: { 'x-amz-acl': 'everyone' } });
  t.equal(badAcl.status, 403, 'anonymous CreateBucket is refused before anything else');
  const denied = await rawRequest(server, 'PUT', '/site/index.html?acl', { headers: { 'x-amz-acl': 'private' } });
  t.equal(errorCode(denied), 'AccessDenied', 'anonymous PutObjectAcl');
  t.equal(xmlValue(denied.text, 'Code'), 'AccessDenied');
});
