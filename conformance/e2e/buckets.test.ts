// Buckets end to end: ListBuckets (the caller's only, never `a:b:c` ones), CreateBucket and its
// errors, HeadBucket, DeleteBucket (BucketNotEmpty), GetBucketLocation and bucket tagging, driven
// by the aws cli, boto3 and raw HTTP.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aws, awsJson, boto3, createBucket, errorCode, lastJson, putObject, s3, startSluice, xmlValue, xmlValues } from '../lib/harness';

t.test('CreateBucket, ListBuckets per user, HeadBucket, DeleteBucket with the aws cli', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());

  const made = await aws(server, ['s3api', 'create-bucket', '--bucket', 'alpha-bucket']);
  t.equal(made.code, 0, made.stderr);
  t.ok(statSync(join(server.root, 'alpha-bucket')).isDirectory(), 'a bucket is a top-level directory');
  await createBucket(server, 'other-bucket', 'otheruser');

  const mine = awsJson<{ Buckets: { Name: string; CreationDate: string }[]; Owner: { DisplayName: string } }>(await aws(server, ['s3api', 'list-buckets']));
  t.same(mine.Buckets.map((b) => b.Name), ['alpha-bucket'], "ListBuckets shows only the caller's buckets");
  t.equal(mine.Owner.DisplayName, 'testuser', 'the owner is the user named by the access key');
  t.ok(Math.abs(Date.parse(mine.Buckets[0]!.CreationDate) - Date.now()) < 60_000, 'CreationDate is now');
  t.same(xmlValues((await s3(server, 'GET', '/', { user: 'otheruser' })).text, 'Name'), ['other-bucket'], 'and another user sees only theirs');

  t.equal((await aws(server, ['s3api', 'head-bucket', '--bucket', 'alpha-bucket'])).code, 0, 'HeadBucket of an existing bucket');

  await putObject(server, 'alpha-bucket', 'dir/file.txt', 'content');
  // us-east-1's legacy rule, as S3 keeps it: creating a bucket you own again is a success.
  const again = await aws(server, ['s3api', 'create-bucket', '--bucket', 'alpha-bucket']);
  t.equal(again.code, 0, `creating your own bucket again in us-east-1 ${again.stderr}`);
  t.equal((await s3(server, 'GET', '/alpha-bucket/dir/file.txt')).text, 'content', 'and its objects are left alone');

  const notEmpty = await aws(server, ['s3api', 'delete-bucket', '--bucket', 'alpha-bucket']);
  t.match(notEmpty.stderr, /BucketNotEmpty/, 'a bucket holding objects is not deleted');
  t.ok(existsSync(join(server.root, 'alpha-bucket', 'dir', 'file.txt')), 'and its objects are untouched');
  t.equal((await s3(server, 'DELETE', '/alpha-bucket/dir/file.txt')).status, 204);
  const deleted = await aws(server, ['s3api', 'delete-bucket', '--bucket', 'alpha-bucket']);
  t.equal(deleted.code, 0, deleted.stderr);
  t.notOk(existsSync(join(server.root, 'alpha-bucket')), 'the directory is gone');
  t.same(xmlValues((await s3(server, 'GET', '/')).text, 'Name'), [], 'and no longer listed');
});

t.test('raw HTTP: status codes, error documents and bucket names', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());

  const created = await s3(server, 'PUT', '/api/v1/s3/raw-bucket');
  t.equal(created.status, 200);
  t.equal((await s3(server, 'PUT', '/raw-bucket')).status, 200, 'your own bucket again, in us-east-1');
  const other = await s3(server, 'PUT', '/raw-bucket', { user: 'mallory' });
  t.equal(other.status, 409);
  t.equal(errorCode(other), 'BucketAlreadyExists');

  const badNames = ['ab', 'UpperCase', 'under_score', '-leading', 'trailing-', '192.168.1.1', 'two..dots', 'dot-.dash', 'x'.repeat(64), '.sluice', 'xn--punycode', 'has%20space'];
  for (const name of badNames) {
    const res = await s3(server, 'PUT', `/${name}`);
    t.equal(res.status, 400, `${name}: 400`);
    t.equal(errorCode(res), 'InvalidBucketName', `${name}: InvalidBucketName`);
  }
  t.same(
    (await s3(server, 'GET', '/')).text.match(/<Name>[^<]*<\/Name>/g),
    ['<Name>raw-bucket</Name>'],
    'no bad name made a bucket',
  );
  for (const name of ['abc', 'a.b-c.d', '0'.repeat(63)]) t.equal((await s3(server, 'PUT', `/${name}`)).status, 200, `${name} is a valid name`);

  const head = await s3(server, 'HEAD', '/raw-bucket');
  t.equal(head.status, 200);
  t.equal(head.headers['x-amz-bucket-region'], 'us-east-1');
  const headMissing = await s3(server, 'HEAD', '/nothing-here');
  t.equal(headMissing.status, 404);
  t.equal(headMissing.body.length, 0, 'HEAD errors have no body');
  const delMissing = await s3(server, 'DELETE', '/nothing-here');
  t.equal(delMissing.status, 404);
  t.equal(errorCode(delMissing), 'NoSuchBucket');
  t.equal(xmlValue(delMissing.text, 'BucketName'), 'nothing-here');
  t.equal((await s3(server, 'DELETE', '/abc')).status, 204, 'DeleteBucket answers 204');

  // boto3 sends a CreateBucketConfiguration body for regions other than us-east-1.
  const config = '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>';
  t.equal((await s3(server, 'PUT', '/with-config', { body: config })).status, 200, 'a CreateBucketConfiguration is accepted');
  const malformed = await s3(server, 'PUT', '/bad-config', { body: '<CreateBucketConfiguration><oops' });
  t.equal(errorCode(malformed), 'MalformedXML');
  t.notOk(existsSync(join(server.root, 'bad-config')), 'a malformed request creates nothing');

  const location = await s3(server, 'GET', '/raw-bucket?location');
  t.equal(location.status, 200);
  t.match(location.text, /<LocationConstraint xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><\/LocationConstraint>/, 'us-east-1 is the empty constraint');
  t.equal(errorCode(await s3(server, 'GET', '/nothing-here?location')), 'NoSuchBucket');
});

t.test('a:b:c sub-directory buckets address ROOT/a/b/c and are not listed', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'top-bucket');
  mkdirSync(join(server.root, 'top-bucket', 'sub'));

  t.equal((await s3(server, 'PUT', '/top-bucket:sub:deep')).status, 200, 'CreateBucket a:b:c makes ROOT/a/b/c');
  t.ok(statSync(join(server.root, 'top-bucket', 'sub', 'deep')).isDirectory());
  const orphan = await s3(server, 'PUT', '/top-bucket:missing:deep');
  t.equal(orphan.status, 404, 'the parent of a sub-directory bucket must exist');
  t.equal(errorCode(orphan), 'NoSuchBucket');
  t.equal((await s3(server, 'HEAD', '/top-bucket:sub:deep')).status, 200);
  await putObject(server, 'top-bucket:sub:deep', 'k.txt', 'deep bytes');
  t.ok(existsSync(join(server.root, 'top-bucket', 'sub', 'deep', 'k.txt')), 'objects land in the sub-directory');
  t.equal((await s3(server, 'GET', '/top-bucket/sub/deep/k.txt')).text, 'deep bytes', 'and are keys of the top-level bucket too');
  const listed = await s3(server, 'GET', '/top-bucket:sub:deep?list-type=2');
  t.same(xmlValues(listed.text, 'Key'), ['k.txt']);

  const buckets = await s3(server, 'GET', '/');
  t.same(xmlValues(buckets.text, 'Name'), ['top-bucket'], 'ListBuckets never returns a:b:c buckets');
  for (const bad of ['top-bucket:..:x', 'top-bucket:.', 'top-bucket::x', 'NOPE:sub']) {
    t.equal(errorCode(await s3(server, 'PUT', `/${encodeURIComponent(bad)}`)), 'InvalidBucketName', `${bad} is refused`);
  }
});

t.test('bucket tagging with the aws cli and boto3', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'tagged');

  t.match((await s3(server, 'GET', '/tagged?tagging')).text, /<Tagging xmlns="[^"]+"><TagSet><\/TagSet><\/Tagging>/, 'a bucket without tags answers an empty TagSet (as Alluxio documents)');
  const put = await aws(server, ['s3api', 'put-bucket-tagging', '--bucket', 'tagged', '--tagging', 'TagSet=[{Key=key1,Value=val1},{Key=key2,Value=val2}]']);
  t.equal(put.code, 0, put.stderr);
  const got = awsJson<{ TagSet: { Key: string; Value: string }[] }>(await aws(server, ['s3api', 'get-bucket-tagging', '--bucket', 'tagged']));
  t.same(got.TagSet, [
    { Key: 'key1', Value: 'val1' },
    { Key: 'key2', Value: 'val2' },
  ]);

  const result = lastJson<Record<string, unknown>>(
    await boto3(
      server,
      `
out = {}
s3.put_bucket_tagging(Bucket='tagged', Tagging={'TagSet': [{'Key': 'team', 'Value': 'data & <ops>'}]})
out['after_put'] = s3.get_bucket_tagging(Bucket='tagged')['TagSet']
try:
    s3.put_bucket_tagging(Bucket='tagged', Tagging={'TagSet': [{'Key': 'k%d' % i, 'Value': 'v'} for i in range(11)]})
except botocore.exceptions.ClientError as e:
    out['eleven'] = e.response['Error']['Code']
try:
    s3.put_bucket_tagging(Bucket='tagged', Tagging={'TagSet': [{'Key': 'same', 'Value': 'a'}, {'Key': 'same', 'Value': 'b'}]})
except botocore.exceptions.ClientError as e:
    out['duplicate'] = e.response['Error']['Code']
out['kept'] = s3.get_bucket_tagging(Bucket='tagged')['TagSet']
s3.delete_bucket_tagging(Bucket='tagged')
out['after_delete'] = s3.get_bucket_tagging(Bucket='tagged')['TagSet']
try:
    s3.get_bucket_tagging(Bucket='no-such-bucket')
except botocore.exceptions.ClientError as e:
    out['missing'] = e.response['Error']['Code']
out['location'] = s3.get_bucket_location(Bucket='tagged').get('LocationConstraint')
print(json.dumps(out))
`,
    ),
  );
  t.same(result.after_put, [{ Key: 'team', Value: 'data & <ops>' }], 'tag values with XML characters survive');
  t.equal(result.eleven, 'InvalidTag', '11 bucket tags are refused');
  t.equal(result.duplicate, 'InvalidTag', 'duplicate tag keys are refused');
  t.same(result.kept, [{ Key: 'team', Value: 'data & <ops>' }], 'a refused PutBucketTagging changes nothing');
  t.same(result.after_delete, []);
  t.equal(result.missing, 'NoSuchBucket');
  t.equal(result.location, null, 'GetBucketLocation: us-east-1 is a null LocationConstraint for boto3');

  const malformed = await s3(server, 'PUT', '/tagged?tagging', { body: '<Tagging><TagSet><Tag><Key>x</Key>' });
  t.equal(malformed.status, 400);
  t.equal(errorCode(malformed), 'MalformedXML');
  const noBody = await s3(server, 'PUT', '/tagged?tagging', { body: '' });
  t.equal(noBody.status, 400, 'an empty tagging body is refused');
});

t.test('CreateBucket of a bucket you own, outside us-east-1: BucketAlreadyOwnedByYou', async (t) => {
  const server = await startSluice({ args: ['--region', 'eu-west-1'] });
  t.teardown(() => server.stop());
  await createBucket(server, 'regional');
  await putObject(server, 'regional', 'k', 'kept');
  const dup = await s3(server, 'PUT', '/regional');
  t.equal(dup.status, 409);
  t.equal(errorCode(dup), 'BucketAlreadyOwnedByYou');
  t.equal(xmlValue(dup.text, 'Resource'), '/regional');
  t.equal(errorCode(await s3(server, 'PUT', '/regional', { user: 'mallory' })), 'BucketAlreadyExists', "another user's");
  t.equal((await s3(server, 'GET', '/regional/k')).text, 'kept');
  const result = await boto3(server, `print(json.dumps(code(lambda: s3.create_bucket(Bucket='regional'))))`);
  t.equal(lastJson(result), 'BucketAlreadyOwnedByYou', 'boto3 sees it too');
});
