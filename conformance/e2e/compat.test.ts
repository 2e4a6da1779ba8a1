// --compat s3: S3's answer wherever the Alluxio document differs (README, "Alluxio or S3"): no
// synthesized dir/ entries, NoSuchTagSet for an untagged bucket, parts completed by ETag, and
// S3's permissions in SIMPLE mode (private by default; a bucket's configuration is its owner's).
import t from 'tap';
import { aws, createBucket, errorCode, s3, startSluice, xmlValue, xmlValues, type Sluice } from '../lib/harness';

const tagging = '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>';

async function uploadOnePart(server: Sluice, key: string): Promise<{ id: string; etag: string }> {
  const id = xmlValue((await s3(server, 'POST', `/s3-compat/${key}?uploads`)).text, 'UploadId')!;
  const part = await s3(server, 'PUT', `/s3-compat/${key}?partNumber=1&uploadId=${id}`, { body: 'only part' });
  return { id, etag: String(part.headers.etag) };
}

t.test('--compat s3', async (t) => {
  const server = await startSluice({ args: ['--compat', 's3'] });
  t.teardown(() => server.stop());
  await createBucket(server, 's3-compat');
  t.equal((await s3(server, 'PUT', '/s3-compat/a/b/c.txt', { body: 'c' })).status, 200);
  t.same(xmlValues((await s3(server, 'GET', '/s3-compat?list-type=2')).text, 'Key'), ['a/b/c.txt'], 'no dir/ entries');

  const untagged = await s3(server, 'GET', '/s3-compat?tagging');
  t.equal(untagged.status, 404);
  t.equal(errorCode(untagged), 'NoSuchTagSet', 'an untagged bucket');
  t.match((await aws(server, ['s3api', 'get-bucket-tagging', '--bucket', 's3-compat'])).stderr, /NoSuchTagSet/, 'as the aws cli hears it');
  t.equal((await s3(server, 'PUT', '/s3-compat?tagging', { body: tagging })).status, 204);
  t.same(xmlValues((await s3(server, 'GET', '/s3-compat?tagging')).text, 'Key'), ['k']);
  t.equal((await s3(server, 'DELETE', '/s3-compat?tagging')).status, 204);
  t.equal(errorCode(await s3(server, 'GET', '/s3-compat?tagging')), 'NoSuchTagSet', 'and once its tags are deleted');
  t.equal((await s3(server, 'GET', '/s3-compat/a/b/c.txt?tagging')).status, 200, 'an untagged object: an empty TagSet, as in S3');

  const bare = await uploadOnePart(server, 'bare');
  const byNumber = await s3(server, 'POST', `/s3-compat/bare?uploadId=${bare.id}`, {
    body: '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
  });
  t.equal(errorCode(byNumber), 'MalformedXML', "parts named without their ETags (the Alluxio document's example)");
  const byETag = await s3(server, 'POST', `/s3-compat/bare?uploadId=${bare.id}`, {
    body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${bare.etag}</ETag></Part></CompleteMultipartUpload>`,
  });
  t.equal(byETag.status, 200, byETag.text);

  // Permissions: private by default, as in S3, even to the named users of SIMPLE mode.
  await createBucket(server, 'alice-s3', 'alice');
  t.equal((await s3(server, 'PUT', '/alice-s3/k', { user: 'alice', body: 'v' })).status, 200);
  t.equal(errorCode(await s3(server, 'GET', '/alice-s3?list-type=2', { user: 'bob' })), 'AccessDenied', 'bob does not list');
  t.equal(errorCode(await s3(server, 'GET', '/alice-s3/k', { user: 'bob' })), 'AccessDenied', 'nor read');
  t.equal((await s3(server, 'PUT', '/alice-s3?acl', { user: 'alice', headers: { 'x-amz-acl': 'public-read' } })).status, 200);
  t.equal((await s3(server, 'GET', '/alice-s3?list-type=2', { user: 'bob' })).status, 200, 'public-read: bob lists');
  t.equal(errorCode(await s3(server, 'GET', '/alice-s3?tagging', { user: 'bob' })), 'AccessDenied', "a bucket's tags are its owner's");
  t.equal(errorCode(await s3(server, 'GET', '/alice-s3?acl', { user: 'bob' })), 'AccessDenied', 'its ACL too');
  t.equal((await s3(server, 'GET', '/alice-s3/k', { user: null })).text, 'v', 'the superuser still may do everything');
});

t.test('--compat s3 --list-directories: the finer flag wins', async (t) => {
  const server = await startSluice({ args: ['--compat', 's3', '--list-directories'] });
  t.teardown(() => server.stop());
  await createBucket(server, 'dirs');
  t.equal((await s3(server, 'PUT', '/dirs/a/b.txt', { body: 'b' })).status, 200);
  t.same(xmlValues((await s3(server, 'GET', '/dirs?list-type=2')).text, 'Key'), ['a/', 'a/b.txt']);
});

t.test('--compat alluxio (the default): the document\'s answers', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'alluxio-compat');
  t.equal((await s3(server, 'GET', '/alluxio-compat?tagging')).text.includes('<TagSet></TagSet>'), true, 'an empty TagSet');
  const id = xmlValue((await s3(server, 'POST', '/alluxio-compat/bare?uploads')).text, 'UploadId')!;
  t.equal((await s3(server, 'PUT', `/alluxio-compat/bare?partNumber=1&uploadId=${id}`, { body: 'p' })).status, 200);
  const done = await s3(server, 'POST', `/alluxio-compat/bare?uploadId=${id}`, {
    body: '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
  });
  t.equal(done.status, 200, 'parts named by number only');
});
