// S3's conditional writes on PutObject and CompleteMultipartUpload: If-None-Match: * creates only
// (atomically: of concurrent writers exactly one wins), If-None-Match: "<etag>" replaces anything
// but that version, If-Match: * only an existing object, If-Match: "<etag>" only that version. A
// refused write leaves the object as it was (and the upload in place) and nothing in .sluice/tmp.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { boto3, createBucket, errorCode, lastJson, md5Hex, putObject, s3, startSluice, xmlValue } from '../lib/harness';
import { createUpload, md5, multipartETag, s3Code, uploadPart } from '../lib/multipart-helpers';

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

  const current = String(matched.headers.etag);
  const same = await s3(server, 'PUT', '/cond/once', { body: 'fourth', headers: { 'If-None-Match': current } });
  t.equal(same.status, 412, 'If-None-Match with the current ETag is refused');
  t.equal(errorCode(same), 'PreconditionFailed');
  t.equal((await s3(server, 'GET', '/cond/once')).text, 'third');
  const otherTag = await s3(server, 'PUT', '/cond/once', { body: 'fourth', headers: { 'If-None-Match': etag } });
  t.equal(otherTag.status, 200, 'If-None-Match with an ETag the object no longer has replaces it');
  t.equal((await s3(server, 'GET', '/cond/once')).text, 'fourth');
  const absentTag = await s3(server, 'PUT', '/cond/tagged-new', { body: 'new', headers: { 'If-None-Match': etag } });
  t.equal(absentTag.status, 200, 'If-None-Match with an ETag creates a key that does not exist');

  const anyMatch = await s3(server, 'PUT', '/cond/once', { body: 'fifth', headers: { 'If-Match': '*' } });
  t.equal(anyMatch.status, 200, 'If-Match: * replaces any existing object');
  t.equal((await s3(server, 'GET', '/cond/once')).text, 'fifth');
  const anyMissing = await s3(server, 'PUT', '/cond/not-there', { body: 'x', headers: { 'If-Match': '*' } });
  t.equal(errorCode(anyMissing), 'NoSuchKey', 'If-Match: * on a key that does not exist');
  t.equal((await s3(server, 'GET', '/cond/not-there')).status, 404);

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
s3.create_bucket(Bucket='bo3')
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

t.test('CompleteMultipartUpload honours If-None-Match and If-Match; a refused complete keeps the upload', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'mpc');
  const part = Buffer.from('the only part');
  const upload = async (key: string): Promise<{ id: string; parts: { partNumber: number; etag: string }[] }> => {
    const id = await createUpload(server, 'mpc', key);
    return { id, parts: [{ partNumber: 1, etag: await uploadPart(server, 'mpc', key, id, 1, part) }] };
  };
  const completeIf = (key: string, u: { id: string; parts: { partNumber: number; etag: string }[] }, headers: Record<string, string>) =>
    s3(server, 'POST', `/mpc/${key}?uploadId=${u.id}`, {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${u.parts[0]!.etag}"</ETag></Part></CompleteMultipartUpload>`,
      headers,
    });
  const multipart = multipartETag([md5(part)]);

  const fresh = await upload('fresh');
  t.equal((await completeIf('fresh', fresh, { 'If-None-Match': '*' })).status, 200, 'If-None-Match: * completes a new key');
  await putObject(server, 'mpc', 'taken', 'already here');
  const onTaken = await upload('taken');
  const refused = await completeIf('taken', onTaken, { 'If-None-Match': '*' });
  t.equal(refused.status, 412, 'If-None-Match: * on an existing key');
  t.equal(errorCode(refused), 'PreconditionFailed');
  t.equal((await s3(server, 'GET', '/mpc/taken')).text, 'already here', 'the object stays');
  const stale = await completeIf('taken', onTaken, { 'If-Match': `"${md5Hex('something else')}"` });
  t.equal(errorCode(stale), 'PreconditionFailed', 'If-Match with another ETag');
  const sameTag = await completeIf('taken', onTaken, { 'If-None-Match': `"${md5Hex('already here')}"` });
  t.equal(errorCode(sameTag), 'PreconditionFailed', 'If-None-Match with the current ETag');
  const matched = await completeIf('taken', onTaken, { 'If-Match': `"${md5Hex('already here')}"` });
  t.equal(matched.status, 200, 'the refused upload is still there: If-Match with the current ETag completes it');
  t.equal(xmlValue(matched.text, 'ETag'), `&quot;${multipart}&quot;`);
  t.equal((await s3(server, 'GET', '/mpc/taken')).text, part.toString());

  const nowhere = await upload('nowhere');
  t.equal(errorCode(await completeIf('nowhere', nowhere, { 'If-Match': '*' })), 'NoSuchKey', 'If-Match: * on a key that does not exist');
  t.equal((await completeIf('nowhere', nowhere, {})).status, 200, 'and the upload completes without it');

  // Of concurrent conditional completes of one key, exactly one wins: the rename decides.
  const racers = await Promise.all([0, 1, 2, 3].map(() => upload('raced')));
  const results = await Promise.all(racers.map((u) => completeIf('raced', u, { 'If-None-Match': '*' })));
  t.equal(results.filter((r) => r.status === 200 && s3Code(r) === undefined).length, 1, 'one complete wins');
  t.ok(results.every((r) => (r.status === 200 && s3Code(r) === undefined) || s3Code(r) === 'PreconditionFailed'), 'the others: PreconditionFailed');

  const viaBoto = await boto3(
    server,
    `
def attempt(key, **kw):
    up = s3.create_multipart_upload(Bucket='mpc', Key=key)
    p = s3.upload_part(Bucket='mpc', Key=key, UploadId=up['UploadId'], PartNumber=1, Body=b'boto part')
    try:
        s3.complete_multipart_upload(Bucket='mpc', Key=key, UploadId=up['UploadId'],
            MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p['ETag']}]}, **kw)
        return 'OK'
    except ClientError as e:
        return e.response['Error']['Code']
print(json.dumps({'new': attempt('boto-new', IfNoneMatch='*'), 'again': attempt('boto-new', IfNoneMatch='*'),
  'stale': attempt('boto-new', IfMatch='"0123456789abcdef0123456789abcdef"'),
  'match': attempt('boto-new', IfMatch=s3.head_object(Bucket='mpc', Key='boto-new')['ETag'])}))
`,
  );
  t.same(lastJson(viaBoto), { new: 'OK', again: 'PreconditionFailed', stale: 'PreconditionFailed', match: 'OK' }, 'boto3 IfNoneMatch and IfMatch');
});
