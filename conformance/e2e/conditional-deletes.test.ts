// Conditional deletes: DeleteObject with If-Match (an ETag or *), x-amz-if-match-last-modified-time
// and x-amz-if-match-size, 412 when they do not hold and 204 when the key is absent; DeleteObjects
// with ETag, LastModifiedTime and Size per key, failing only that key. The check is decided on
// the very version removed: a delete racing an overwrite never removes the newer version.
import t, { type Test } from 'tap';
import { boto3, createBucket, errorCode, lastJson, md5Hex, putObject, s3, startSluice, tempDir, xmlValues, type Sluice } from '../lib/harness';

async function suite(t: Test, server: Sluice): Promise<void> {
  await createBucket(server, 'cdel');
  const exists = async (key: string): Promise<boolean> => (await s3(server, 'HEAD', `/cdel/${key}`)).status === 200;
  const del = (key: string, headers: Record<string, string>) => s3(server, 'DELETE', `/cdel/${key}`, { headers });

  await putObject(server, 'cdel', 'k', 'version one');
  const etag = `"${md5Hex('version one')}"`;
  const stale = await del('k', { 'If-Match': `"${md5Hex('another')}"` });
  t.equal(stale.status, 412, 'If-Match with another ETag');
  t.equal(errorCode(stale), 'PreconditionFailed');
  t.ok(await exists('k'), 'the object stays');
  t.equal((await del('k', { 'If-Match': etag })).status, 204, 'If-Match with its ETag deletes');
  t.notOk(await exists('k'));
  t.equal((await del('k', { 'If-Match': etag })).status, 204, 'a key that is absent: 204, as S3 documents');

  await putObject(server, 'cdel', 'any', 'x');
  t.equal((await del('any', { 'If-Match': '*' })).status, 204, 'If-Match: * deletes an existing object');
  t.notOk(await exists('any'));

  await putObject(server, 'cdel', 'sized', '12345');
  const head = await s3(server, 'HEAD', '/cdel/sized');
  const modified = String(head.headers['last-modified']);
  const earlier = new Date(Date.parse(modified) - 60_000).toUTCString();
  t.equal(errorCode(await del('sized', { 'x-amz-if-match-size': '4' })), 'PreconditionFailed', 'another size');
  t.equal(errorCode(await del('sized', { 'x-amz-if-match-last-modified-time': earlier })), 'PreconditionFailed', 'another time');
  t.equal(errorCode(await del('sized', { 'x-amz-if-match-size': '5', 'If-Match': `"${md5Hex('nope')}"` })), 'PreconditionFailed', 'all must hold');
  t.equal(errorCode(await del('sized', { 'x-amz-if-match-last-modified-time': 'yesterday' })), 'InvalidArgument', 'a time that is no date');
  t.equal(errorCode(await del('sized', { 'x-amz-if-match-size': 'five' })), 'InvalidArgument', 'a size that is no number');
  t.ok(await exists('sized'), 'still there after every refusal');
  const both = await del('sized', { 'x-amz-if-match-size': '5', 'x-amz-if-match-last-modified-time': modified, 'If-Match': `"${md5Hex('12345')}"` });
  t.equal(both.status, 204, 'size, time and ETag that hold');
  t.notOk(await exists('sized'));

  // A delete racing an overwrite: whichever comes first, the newer version is never removed.
  let lost = 0;
  for (let round = 0; round < 25; round++) {
    const key = `race-${round}`;
    await putObject(server, 'cdel', key, `old ${round}`);
    const [put, gone] = await Promise.all([
      s3(server, 'PUT', `/cdel/${key}`, { body: `new ${round}`.repeat(2000) }),
      del(key, { 'If-Match': `"${md5Hex(`old ${round}`)}"` }),
    ]);
    t.equal(put.status, 200);
    t.ok(gone.status === 204 || errorCode(gone) === 'PreconditionFailed', `round ${round}: ${gone.status}`);
    if ((await s3(server, 'GET', `/cdel/${key}`)).text !== `new ${round}`.repeat(2000)) lost++;
  }
  t.equal(lost, 0, 'the new version survived every race');
}

t.test('DeleteObject conditions, raw HTTP', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await suite(t, server);
});

t.test('the same with a cache tier, a cache-only object (MUST_CACHE) among them', async (t) => {
  const cache = tempDir('sluice-cache-');
  const server = await startSluice({ args: ['--cache-dir', cache, '--cache-size', '64MB'] });
  t.teardown(() => server.stop());
  await suite(t, server);
  const local = await startSluice({ args: ['--cache-dir', tempDir('sluice-cache-'), '--cache-size', '64MB', '--write-type', 'MUST_CACHE'] });
  t.teardown(() => local.stop());
  await createBucket(local, 'only');
  await putObject(local, 'only', 'k', 'cached only');
  t.equal(errorCode(await s3(local, 'DELETE', '/only/k', { headers: { 'If-Match': `"${md5Hex('x')}"` } })), 'PreconditionFailed');
  t.equal((await s3(local, 'GET', '/only/k')).text, 'cached only', 'the cache-only object stays');
  t.equal((await s3(local, 'DELETE', '/only/k', { headers: { 'If-Match': `"${md5Hex('cached only')}"` } })).status, 204);
  t.equal((await s3(local, 'GET', '/only/k')).status, 404);
});

t.test('boto3: delete_object and delete_objects with conditions', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  const result = await boto3(
    server,
    `
s3.create_bucket(Bucket='bcd')
for k in ['a', 'b', 'c', 'd', 'e']:
    s3.put_object(Bucket='bcd', Key=k, Body=k.encode() * 3)
h = s3.head_object(Bucket='bcd', Key='a')
out = {
  'wrong': code(lambda: s3.delete_object(Bucket='bcd', Key='a', IfMatch='"00000000000000000000000000000000"')),
  'size': code(lambda: s3.delete_object(Bucket='bcd', Key='a', IfMatchSize=2)),
  'right': code(lambda: s3.delete_object(Bucket='bcd', Key='a', IfMatch=h['ETag'], IfMatchSize=3, IfMatchLastModifiedTime=h['LastModified'])),
}
b = s3.head_object(Bucket='bcd', Key='b')
r = s3.delete_objects(Bucket='bcd', Delete={'Objects': [
  {'Key': 'b', 'ETag': b['ETag'], 'Size': 3, 'LastModifiedTime': b['LastModified']},
  {'Key': 'c', 'ETag': '"00000000000000000000000000000000"'},
  {'Key': 'd', 'Size': 99},
  {'Key': 'e', 'ETag': '*'},
  {'Key': 'never', 'ETag': '*'},
]})
out['deleted'] = sorted(d['Key'] for d in r.get('Deleted', []))
out['errors'] = sorted((e['Key'], e['Code']) for e in r.get('Errors', []))
out['left'] = sorted(o['Key'] for o in s3.list_objects_v2(Bucket='bcd').get('Contents', []))
print(json.dumps(out))
`,
  );
  t.same(lastJson(result), {
    wrong: 'PreconditionFailed',
    size: 'PreconditionFailed',
    right: 'OK',
    deleted: ['b', 'e', 'never'],
    errors: [
      ['c', 'PreconditionFailed'],
      ['d', 'PreconditionFailed'],
    ],
    left: ['c', 'd'],
  });

  await createBucket(server, 'rawdel');
  await putObject(server, 'rawdel', 'x', 'x');
  const body = `<Delete><Object><Key>x</Key><Size>one</Size></Object></Delete>`;
  const res = await s3(server, 'POST', '/rawdel?delete', { body });
  t.same(xmlValues(res.text, 'Code'), ['InvalidArgument'], 'a Size that is no number fails that key');
});
