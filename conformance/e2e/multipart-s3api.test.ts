// The aws s3api multipart commands one by one: create-multipart-upload, upload-part,
// upload-part-copy with --copy-source-range, list-parts, list-multipart-uploads,
// complete-multipart-upload and abort-multipart-upload, checking bytes, ETags and headers.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aws, awsJson, createBucket, errorCode, objectPath, putObject, s3, startSluice, tempDir, xmlValue } from '../lib/harness';
import { MiB, createUpload, md5, multipartETag, patternBytes, uploadPart } from '../lib/multipart-helpers';

t.test('aws s3api: every multipart command, UploadPartCopy with a range, abort', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'mpb');
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const source = patternBytes(12 * MiB, 1);
  await putObject(server, 'mpb', 'source.bin', source);
  const part1 = patternBytes(5 * MiB + 17, 2);
  const part3 = Buffer.from('the short last part\n');
  writeFileSync(join(dir, 'p1'), part1);
  writeFileSync(join(dir, 'p3'), part3);

  const created = awsJson<{ UploadId: string; Key: string }>(
    await aws(server, ['s3api', 'create-multipart-upload', '--bucket', 'mpb', '--key', 'docs/joined.bin', '--content-type', 'application/x-joined', '--metadata', 'origin=cli']),
  );
  t.equal(created.Key, 'docs/joined.bin');
  const id = created.UploadId;
  t.match(id, /^\S{16,}$/, 'an upload id');

  const up1 = awsJson<{ ETag: string }>(await aws(server, ['s3api', 'upload-part', '--bucket', 'mpb', '--key', 'docs/joined.bin', '--upload-id', id, '--part-number', '1', '--body', join(dir, 'p1')]));
  t.equal(up1.ETag, `"${md5(part1)}"`);
  // Bytes 1 MiB .. 7 MiB-1 of the source: 6 MiB.
  const range = source.subarray(MiB, 7 * MiB);
  const copied = awsJson<{ CopyPartResult: { ETag: string; LastModified: string } }>(
    await aws(server, ['s3api', 'upload-part-copy', '--bucket', 'mpb', '--key', 'docs/joined.bin', '--upload-id', id, '--part-number', '2', '--copy-source', 'mpb/source.bin', '--copy-source-range', `bytes=${MiB}-${7 * MiB - 1}`]),
  );
  t.equal(copied.CopyPartResult.ETag, `"${md5(range)}"`, 'UploadPartCopy: the ETag of the copied range');
  t.ok(Date.parse(copied.CopyPartResult.LastModified) > 0);
  const up3 = awsJson<{ ETag: string }>(await aws(server, ['s3api', 'upload-part', '--bucket', 'mpb', '--key', 'docs/joined.bin', '--upload-id', id, '--part-number', '3', '--body', join(dir, 'p3')]));

  const listed = awsJson<{ Parts: { PartNumber: number; ETag: string; Size: number; LastModified: string }[] }>(
    await aws(server, ['s3api', 'list-parts', '--bucket', 'mpb', '--key', 'docs/joined.bin', '--upload-id', id]),
  );
  t.same(
    listed.Parts.map((p) => [p.PartNumber, p.ETag, p.Size]),
    [
      [1, up1.ETag, part1.length],
      [2, copied.CopyPartResult.ETag, range.length],
      [3, up3.ETag, part3.length],
    ],
    'list-parts: numbers, real ETags, sizes',
  );
  t.ok(listed.Parts.every((p) => Date.parse(p.LastModified) > Date.now() - 600_000));

  const uploads = awsJson<{ Uploads: { Key: string; UploadId: string }[] }>(await aws(server, ['s3api', 'list-multipart-uploads', '--bucket', 'mpb']));
  t.same(uploads.Uploads.map((u) => [u.Key, u.UploadId]), [['docs/joined.bin', id]]);

  const parts = listed.Parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag }));
  const done = awsJson<{ ETag: string; Key: string; Bucket: string }>(
    await aws(server, ['s3api', 'complete-multipart-upload', '--bucket', 'mpb', '--key', 'docs/joined.bin', '--upload-id', id, '--multipart-upload', JSON.stringify({ Parts: parts })]),
  );
  const expectedETag = multipartETag([md5(part1), md5(range), md5(part3)]);
  t.equal(done.ETag, `"${expectedETag}"`);
  t.equal(done.Key, 'docs/joined.bin');
  t.equal(done.Bucket, 'mpb');
  const out = join(dir, 'out');
  const got = awsJson<{ ETag: string; ContentType: string; Metadata: Record<string, string>; PartsCount?: number }>(
    await aws(server, ['s3api', 'get-object', '--bucket', 'mpb', '--key', 'docs/joined.bin', out]),
  );
  t.same(readFileSync(out), Buffer.concat([part1, range, part3]), 'the object is the parts in order');
  t.equal(got.ETag, `"${expectedETag}"`);
  t.equal(got.ContentType, 'application/x-joined', 'content headers of CreateMultipartUpload reach the object');
  t.same(got.Metadata, { origin: 'cli' });

  // Abort (set up with raw requests: the cli's startup is the slow part of this suite).
  const other = await createUpload(server, 'mpb', 'aborted.bin');
  await uploadPart(server, 'mpb', 'aborted.bin', other, 1, part3);
  const aborted = await aws(server, ['s3api', 'abort-multipart-upload', '--bucket', 'mpb', '--key', 'aborted.bin', '--upload-id', other]);
  t.equal(aborted.code, 0, aborted.stderr);
  const gone = await aws(server, ['s3api', 'list-parts', '--bucket', 'mpb', '--key', 'aborted.bin', '--upload-id', other]);
  t.not(gone.code, 0);
  t.match(gone.stderr, /NoSuchUpload/, 'list-parts of an aborted upload: NoSuchUpload');
  t.equal(errorCode(await s3(server, 'DELETE', `${objectPath('mpb', 'aborted.bin')}?uploadId=${other}`)), 'NoSuchUpload', 'aborting twice: NoSuchUpload');
  t.equal(xmlValue((await s3(server, 'GET', '/mpb?uploads')).text, 'Upload'), undefined, 'no upload left in progress');
  t.equal((await s3(server, 'HEAD', objectPath('mpb', 'aborted.bin'))).status, 404, 'an aborted upload leaves no object');
  t.same(readdirSync(join(server.root, '.sluice', 'uploads')).filter((n) => n.startsWith(other)), [], 'nor any folder');
});
