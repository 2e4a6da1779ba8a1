// S3's conditional writes on PutObject: If-None-Match: * creates only (atomically: of concurrent
// writers exactly one wins), If-Match replaces only the version with that ETag. A refused write
// leaves the object as it was and nothing behind in .sluice/tmp.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { boto3, createBucket, errorCode, lastJson, md5Hex, putObject, s3, startSluice } from '../lib/harness';

t.test('If-None-Match: * and If-Match on PutObject, raw HTTP', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'cond');
  const tmpEmpty = (): boolean => readdirSync(join(server.root, '.sluice', 'tmp')).length === 0;

  const first = await s3(server, 'PUT', '/cond/once', { body: 'first', headers: { 'If-None-Match': '*' } });
  t.equal(first.status, 200, 'creates a new key');
  const again = await s3(server, 'PUT', '/cond/once', { body: 'second', headers: { 'If-None-Match': '*' } });
  t.equal(again.status, 412);
  t.equal(errorCode(again), 'PreconditionFailed', 'an existing key is not replaced');
  t.equal((await s3(server, 'GET', '/cond/once')).text, 'first', 'the first version stays');
  t.ok(tmpEmpty(), 'the refused body left nothing in .sluice/tmp');

  const etag = String(first.headers.etag);
  t.equal(etag, `"${md5Hex('first')}"`);
  const stale = await s3(server, 'PUT', '/cond/once', { body: 'third', headers: { 'If-Match': `"${md5Hex('nope')}"` } });
  t.equal(stale.status, 412, 'If-Match with another ETag is refused');
  t.equal(errorCode(stale), 'PreconditionFailed');
  const matched = await s3(server, 'PUT', '/cond/once', { body: 'third', headers: { 'If-Match': etag } });
  t.equal(matched.status, 200, 'If-Match with the current ETag replaces');
  t.equal((await s3(server, 'GET', '/cond/once')).text, 'third');
  const missing = await s3(server, 'PUT', '/cond/never', { body: 'x', headers: { 'If-Match': etag } });
  t.equal(missing.status, 404, 'If-Match on a key that does not exist');
  t.equal(errorCode(missing), 'NoSuchKey');
  t.equal((await s3(server, 'GET', '/cond/never')).status, 404, 'and nothing was created');

  const other = await s3(server, 'PUT', '/cond/x', { body: 'x', headers: { 'If-None-Match': etag } });
  t.equal(other.status, 501, 'If-None-Match with an ETag is not something S3 does');
  t.equal(errorCode(other), 'NotImplemented');

  await putObject(server, 'cond', 'dir/inside', 'x');
  const onDirectory = await s3(server, 'PUT', '/cond/dir', { body: 'x', headers: { 'If-None-Match': '*' } });
  t.equal(onDirectory.status, 200, 'a key that is also a prefix is created (inside its directory)');
  const dirAgain = await s3(server, 'PUT', '/cond/dir', { body: 'y', headers: { 'If-None-Match': '*' } });
  t.equal(dirAgain.status, 412, 'and then exists');
  t.equal((await s3(server, 'GET', '/cond/dir')).text, 'x');
  t.equal((await s3(server, 'GET', '/cond/dir/inside')).text, 'x');
  t.ok(tmpEmpty(), 'still nothing in .sluice/tmp');
});

t.test('of concurrent If-None-Match: * writers to one key, exactly one wins', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'race');
  for (let round = 0; round < 5; round++) {
    const bodies = Array.from({ length: 12 }, (_, i) => `round ${round} writer ${i} `.repeat(1000 + i));
    const results = await Promise.all(bodies.map((body) => s3(server, 'PUT', `/race/key-${round}`, { body, headers: { 'If-None-Match': '*' } })));
    const winners = results.flatMap((r, i) => (r.status === 200 ? [i] : []));
    t.equal(winners.length, 1, `round ${round}: one writer wins`);
    t.ok(results.every((r) => r.status === 200 || errorCode(r) === 'PreconditionFailed'), 'the others get PreconditionFailed');
    t.equal((await s3(server, 'GET', `/race/key-${round}`)).text, bodies[winners[0]!], 'the stored object is the winner\'s');
  }
});

t.test('boto3 IfNoneMatch and IfMatch', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  const result = await boto3(
    server,
    `
from botocore.exceptions import ClientError
s3.create_bucket(Bucket='bo3')
def code(f):
    try:
        f(); return 'OK'
    except ClientError as e:
        return e.response['Error']['Code']
etag = s3.put_object(Bucket='bo3', Key='k', Body=b'one', IfNoneMatch='*')['ETag']
out = {
  'again': code(lambda: s3.put_object(Bucket='bo3', Key='k', Body=b'two', IfNoneMatch='*')),
  'match': code(lambda: s3.put_object(Bucket='bo3', Key='k', Body=b'two', IfMatch=etag)),
  'stale': code(lambda: s3.put_object(Bucket='bo3', Key='k', Body=b'three', IfMatch=etag)),
  'body': s3.get_object(Bucket='bo3', Key='k')['Body'].read().decode(),
}
print(json.dumps(out))
`,
  );
  t.equal(result.code, 0, result.stderr);
  t.same(lastJson(result), { again: 'PreconditionFailed', match: 'OK', stale: 'PreconditionFailed', body: 'two' });
});
