// Alluxio's SIMPLE mode authorizes as the named user: buckets and objects have an owner and mode
// bits (the umask's defaults: others read and list, never write or delete), the user running the
// server (and any request that names no user) may do everything, and --permissions false turns the
// checks off. Two users, raw HTTP, boto3 and the aws cli.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { aws, boto3, createBucket, errorCode, lastJson, s3, startSluice, tempDir, xmlValue, xmlValues, type Sluice } from '../lib/harness';

const status = async (server: Sluice, method: string, path: string, user: string | null, body?: string): Promise<string> => {
  const res = await s3(server, method, path, { user, ...(body !== undefined ? { body } : {}) });
  return res.status < 300 ? String(res.status) : `${res.status} ${errorCode(res)}`;
};

t.test('another user reads and lists, but neither writes nor deletes', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'alice-data', 'alice');
  t.equal(await status(server, 'PUT', '/alice-data/report.csv', 'alice', 'a,b'), '200');
  t.equal(await status(server, 'PUT', '/alice-data/dir/nested.txt', 'alice', 'n'), '200');
  await createBucket(server, 'bob-data', 'bob');

  const asBob: [string, string, string, string | undefined][] = [
    ['GET', '/alice-data/report.csv', '200', undefined],
    ['HEAD', '/alice-data/report.csv', '200', undefined],
    ['GET', '/alice-data?list-type=2', '200', undefined],
    ['HEAD', '/alice-data', '200', undefined],
    ['GET', '/alice-data/report.csv?tagging', '200', undefined],
    ['GET', '/alice-data?tagging', '200', undefined],
    ['GET', '/alice-data?acl', '200', undefined],
    ['PUT', '/alice-data/bob.txt', '403 AccessDenied', 'by bob'],
    ['DELETE', '/alice-data/report.csv', '403 AccessDenied', undefined],
    ['POST', '/alice-data/big?uploads', '403 AccessDenied', undefined],
    ['PUT', '/alice-data/report.csv?tagging', '403 AccessDenied', '<Tagging><TagSet/></Tagging>'],
    ['DELETE', '/alice-data/report.csv?tagging', '403 AccessDenied', undefined],
    ['PUT', '/alice-data?tagging', '403 AccessDenied', '<Tagging><TagSet/></Tagging>'],
    ['PUT', '/alice-data?acl', '403 AccessDenied', undefined],
    ['PUT', '/alice-data/report.csv?acl', '403 AccessDenied', undefined],
    ['DELETE', '/alice-data', '403 AccessDenied', undefined],
    ['PUT', '/alice-data:dir', '403 AccessDenied', undefined],
    ['GET', '/alice-data/missing', '404 NoSuchKey', undefined],
  ];
  for (const [method, path, expected, body] of asBob) {
    t.equal(await status(server, method, path, 'bob', body), expected, `bob: ${method} ${path}`);
  }
  const deleted = await s3(server, 'POST', '/alice-data?delete', {
    user: 'bob',
    body: '<Delete><Object><Key>report.csv</Key></Object></Delete>',
  });
  t.equal(errorCode(deleted), 'AccessDenied', 'bob: DeleteObjects');
  const copyInto = await s3(server, 'PUT', '/alice-data/copy', { user: 'bob', headers: { 'x-amz-copy-source': '/bob-data/x' } });
  t.equal(errorCode(copyInto), 'AccessDenied', 'bob: CopyObject into alice-data');
  const copyOut = await s3(server, 'PUT', '/bob-data/copy', { user: 'bob', headers: { 'x-amz-copy-source': '/alice-data/report.csv' } });
  t.equal(copyOut.status, 200, 'bob may copy what he may read into his own bucket');
  t.equal((await s3(server, 'GET', '/alice-data/report.csv', { user: 'alice' })).text, 'a,b', "alice's object is intact");
  t.same(xmlValues((await s3(server, 'GET', '/', { user: 'bob' })).text, 'Name'), ['bob-data'], "ListBuckets: the caller's own");

  const acl = (await s3(server, 'GET', '/alice-data?acl', { user: 'bob' })).text;
  t.equal(xmlValue(xmlValue(acl, 'Owner') ?? '', 'ID'), 'alice', 'GetBucketAcl names the owner');
  t.match(acl, /AuthenticatedUsers<\/URI><\/Grantee><Permission>READ</, "the umask's 0755: every named user reads");
  t.notMatch(acl, /AllUsers/);

  // alice owns what she made: she changes its tags, its ACL, deletes it.
  t.equal(await status(server, 'PUT', '/alice-data/report.csv?tagging', 'alice', '<Tagging><TagSet/></Tagging>'), '200');
  t.equal(await status(server, 'DELETE', '/alice-data/dir/nested.txt', 'alice'), '204');

  // boto3 and the aws cli as bob.
  const py = lastJson<Record<string, unknown>>(
    await boto3(
      server,
      `
def code(f):
    try:
        f(); return 'OK'
    except botocore.exceptions.ClientError as e:
        return e.response['Error']['Code']
print(json.dumps({
  'get': s3.get_object(Bucket='alice-data', Key='report.csv')['Body'].read().decode(),
  'put': code(lambda: s3.put_object(Bucket='alice-data', Key='b', Body=b'b')),
  'delete': code(lambda: s3.delete_object(Bucket='alice-data', Key='report.csv')),
  'keys': [o['Key'] for o in s3.list_objects_v2(Bucket='alice-data')['Contents']],
}))
`,
      'bob',
    ),
  );
  t.same(py, { get: 'a,b', put: 'AccessDenied', delete: 'AccessDenied', keys: ['report.csv'] }, 'boto3 as bob');
  const file = join(tempDir(), 'f.txt');
  writeFileSync(file, 'by the cli');
  const cp = await aws(server, ['s3', 'cp', file, 's3://alice-data/cli.txt'], 'bob');
  t.not(cp.code, 0, 'aws s3 cp as bob fails');
  t.match(cp.stderr, /AccessDenied/);
  t.match((await aws(server, ['s3', 'ls', 's3://alice-data/'], 'bob')).stdout, /report\.csv/, 'aws s3 ls as bob lists');
});

t.test('the user running the server, and requests that name no user, may do everything', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'alice-only', 'alice');
  t.equal(await status(server, 'PUT', '/alice-only/k', 'alice', 'v'), '200');
  t.equal(await status(server, 'PUT', '/alice-only/unsigned', null, 'u'), '200', 'unsigned curl writes');
  t.equal(await status(server, 'DELETE', '/alice-only/k', null), '204', 'and deletes');
  t.equal(await status(server, 'PUT', '/alice-only/named', userInfo().username, 'n'), '200', 'so does the server user by name');
  t.equal(await status(server, 'PUT', '/alice-only?acl', null), '400 MissingRequestBodyError', 'and may set ACLs (it named none)');
});

t.test('files and directories of other programs: the server user owns them, with the umask defaults', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'alice-files', 'alice');
  writeFileSync(join(server.root, 'alice-files', 'foreign.txt'), 'written by another program');
  mkdirSync(join(server.root, 'shared'));
  writeFileSync(join(server.root, 'shared', 'readme'), 'shared');
  t.equal(await status(server, 'GET', '/alice-files/foreign.txt', 'bob'), '200', 'others read it');
  t.equal(await status(server, 'DELETE', '/alice-files/foreign.txt', 'bob'), '403 AccessDenied');
  t.equal(await status(server, 'DELETE', '/alice-files/foreign.txt', 'alice'), '204', 'the bucket owner deletes it');
  t.equal(await status(server, 'GET', '/shared?list-type=2', 'alice'), '200', "a directory made by another program: alice lists it");
  t.equal(await status(server, 'PUT', '/shared/x', 'alice', 'x'), '403 AccessDenied', "it is the server user's: she does not write in it");
  const acl = (await s3(server, 'GET', '/shared/readme?acl', { user: 'alice' })).text;
  t.equal(xmlValue(xmlValue(acl, 'Owner') ?? '', 'ID'), userInfo().username);
});

t.test('--umask 077: nothing for others; a missing key is AccessDenied to who may not list', async (t) => {
  const conf = join(tempDir(), 'alluxio-site.properties');
  writeFileSync(conf, 'alluxio.security.authorization.permission.umask=077\n');
  const server = await startSluice({ args: ['--conf', conf] });
  t.teardown(() => server.stop());
  await createBucket(server, 'closed', 'alice');
  t.equal(await status(server, 'PUT', '/closed/k', 'alice', 'v'), '200');
  t.equal(await status(server, 'GET', '/closed?list-type=2', 'bob'), '403 AccessDenied');
  t.equal(await status(server, 'GET', '/closed/k', 'bob'), '403 AccessDenied');
  t.equal(await status(server, 'GET', '/closed/missing', 'bob'), '403 AccessDenied', 'absence tells bob nothing');
  t.equal(await status(server, 'GET', '/closed/missing', 'alice'), '404 NoSuchKey');
  // A public-read object stays unreachable in a bucket others may not even enter (Alluxio's x check).
  t.equal((await s3(server, 'PUT', '/closed/pub', { user: 'alice', body: 'p', headers: { 'x-amz-acl': 'public-read' } })).status, 200);
  t.equal(await status(server, 'GET', '/closed/pub', 'bob'), '403 AccessDenied');
});

t.test('--permissions false (alluxio.security.authorization.permission.enabled): every named user may do everything', async (t) => {
  const server = await startSluice({ args: ['--permissions', 'false'] });
  t.teardown(() => server.stop());
  await createBucket(server, 'open', 'alice');
  t.equal(await status(server, 'PUT', '/open/bob.txt', 'bob', 'b'), '200');
  t.equal(await status(server, 'DELETE', '/open/bob.txt', 'bob'), '204');
  t.equal(await status(server, 'DELETE', '/open', 'bob'), '204');
});

t.test('canned ACLs in SIMPLE mode: recorded, returned, and checked on the same model', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  const put = (path: string, user: string, acl?: string): Promise<number> =>
    s3(server, 'PUT', path, { user, body: path.indexOf('/', 1) > 0 ? 'x' : '', headers: acl ? { 'x-amz-acl': acl } : {} }).then((r) => r.status);
  t.equal(await put('/shared-rw', 'alice', 'public-read-write'), 200);
  t.equal(await put('/shared-rw/bobs.txt', 'bob', undefined), 200, 'public-read-write: bob writes in alice\'s bucket');
  const objectAcl = (await s3(server, 'GET', '/shared-rw/bobs.txt?acl', { user: 'bob' })).text;
  t.equal(xmlValue(xmlValue(objectAcl, 'Owner') ?? '', 'ID'), 'bob', 'what bob wrote is his');
  t.equal(await put('/shared-rw/secret.txt', 'alice', 'private'), 200);
  t.equal(await status(server, 'GET', '/shared-rw/secret.txt', 'bob'), '403 AccessDenied', 'a private object');
  t.equal(await status(server, 'DELETE', '/shared-rw/secret.txt', 'bob'), '204', "but bob may delete in the bucket (S3's and POSIX's rule)");
  t.equal(await put('/hidden', 'alice', 'private'), 200);
  t.equal(await status(server, 'GET', '/hidden?list-type=2', 'bob'), '403 AccessDenied', 'a private bucket is not listed');
  t.equal(errorCode(await s3(server, 'PUT', '/hidden2', { user: 'alice', headers: { 'x-amz-acl': 'public' } })), 'InvalidArgument');

  // Multipart uploads: continued by their initiator or the bucket's owner.
  const created = await s3(server, 'POST', '/shared-rw/mp?uploads', { user: 'bob' });
  const id = xmlValue(created.text, 'UploadId')!;
  t.equal(await status(server, 'PUT', `/shared-rw/mp?partNumber=1&uploadId=${id}`, 'carol', 'c'), '403 AccessDenied', 'carol: not hers');
  t.equal(await status(server, 'GET', `/shared-rw/mp?uploadId=${id}`, 'carol'), '403 AccessDenied');
  t.equal(await status(server, 'PUT', `/shared-rw/mp?partNumber=1&uploadId=${id}`, 'bob', 'b'), '200');
  t.equal(await status(server, 'GET', `/shared-rw/mp?uploadId=${id}`, 'alice'), '200', 'the bucket owner lists its parts');
  t.equal(await status(server, 'DELETE', `/shared-rw/mp?uploadId=${id}`, 'carol'), '403 AccessDenied');
  t.equal(await status(server, 'DELETE', `/shared-rw/mp?uploadId=${id}`, 'alice'), '204', 'and aborts it');
});

t.test('with a cache tier, permissions travel with the object: cache-only, persisted, copied', async (t) => {
  for (const writeType of ['CACHE_THROUGH', 'MUST_CACHE', 'ASYNC_THROUGH']) {
    const cacheDir = tempDir('sluice-cache-');
    const server = await startSluice({ args: ['--cache-dir', cacheDir, '--cache-size', '64MB', '--write-type', writeType] });
    await createBucket(server, 'tiered', 'alice');
    const put = (key: string, acl: string): Promise<number> =>
      s3(server, 'PUT', `/tiered/${key}`, { user: 'alice', body: `${key} bytes`, headers: { 'x-amz-acl': acl } }).then((r) => r.status);
    t.equal(await put('private', 'private'), 200);
    t.equal(await put('shared', 'authenticated-read'), 200);
    for (let round = 0; round < 2; round++) {
      // The second round reads copies filled by the first (and, ASYNC_THROUGH, persisted objects).
      t.equal((await s3(server, 'GET', '/tiered/private', { user: 'alice' })).status, 200, `${writeType}: alice reads hers`);
      t.equal(await status(server, 'GET', '/tiered/private', 'bob'), '403 AccessDenied', `${writeType} round ${round}: bob does not`);
      t.equal(await status(server, 'GET', '/tiered/shared', 'bob'), '200', `${writeType} round ${round}: authenticated-read`);
      await new Promise((r) => setTimeout(r, 300));
    }
    t.equal((await s3(server, 'PUT', '/tiered/private?acl', { user: 'alice', headers: { 'x-amz-acl': 'public-read' } })).status, 200);
    t.equal(await status(server, 'GET', '/tiered/private', 'bob'), '200', `${writeType}: PutObjectAcl reaches the tier that holds it`);
    await server.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
