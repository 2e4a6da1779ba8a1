// Multipart uploads driven by real clients: `aws s3 cp` of a 100 MiB file, the aws s3api multipart
// commands one by one (UploadPartCopy with a range included), and boto3's managed transfers with
// 5 MiB parts; each checks the bytes and the multipart ETag computed here from the file.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aws, awsJson, boto3, createBucket, lastJson, md5OfFile, putObject, startSluice, tempDir, writeRandomFile } from '../lib/harness';
import { MiB, md5, multipartETag, partMd5sOfFile, patternBytes } from '../lib/multipart-helpers';

t.test('aws s3 cp of a 100 MiB file: multipart upload, download, bytes and ETag', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'big');
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'in.bin');
  const md5In = await writeRandomFile(file, 100 * MiB);
  // The aws cli splits at 8 MiB: 12 full parts and a 4 MiB last one.
  const expectedETag = multipartETag(await partMd5sOfFile(file, 8 * MiB));
  t.match(expectedETag, /-13$/);

  const upStarted = performance.now();
  const up = await aws(server, ['s3', 'cp', file, 's3://big/dir/in.bin', '--only-show-errors', '--no-progress']);
  const upMs = performance.now() - upStarted;
  t.equal(up.code, 0, up.stderr);
  t.equal(await md5OfFile(join(server.root, 'big', 'dir', 'in.bin')), md5In, 'the assembled file on disk holds the bytes');

  const head = awsJson<{ ETag: string; ContentLength: number }>(await aws(server, ['s3api', 'head-object', '--bucket', 'big', '--key', 'dir/in.bin']));
  t.equal(head.ETag, `"${expectedETag}"`, 'ETag is the MD5 of the 8 MiB parts\' MD5s, then -13');
  t.equal(head.ContentLength, 100 * MiB);

  const out = join(dir, 'out.bin');
  const downStarted = performance.now();
  const down = await aws(server, ['s3', 'cp', 's3://big/dir/in.bin', out, '--only-show-errors', '--no-progress']);
  const downMs = performance.now() - downStarted;
  t.equal(down.code, 0, down.stderr);
  t.equal(await md5OfFile(out), md5In, 'the downloaded bytes are the uploaded ones');
  t.comment(`aws s3 cp 100 MiB: upload ${upMs.toFixed(0)} ms, download ${downMs.toFixed(0)} ms`);

  const uploads = awsJson<{ Uploads?: unknown[] }>(await aws(server, ['s3api', 'list-multipart-uploads', '--bucket', 'big']));
  t.same(uploads.Uploads ?? [], [], 'no upload is left in progress');
});

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

  // Abort: the upload and its parts go.
  const other = awsJson<{ UploadId: string }>(await aws(server, ['s3api', 'create-multipart-upload', '--bucket', 'mpb', '--key', 'aborted.bin'])).UploadId;
  t.equal((await aws(server, ['s3api', 'upload-part', '--bucket', 'mpb', '--key', 'aborted.bin', '--upload-id', other, '--part-number', '1', '--body', join(dir, 'p3')])).code, 0);
  const aborted = await aws(server, ['s3api', 'abort-multipart-upload', '--bucket', 'mpb', '--key', 'aborted.bin', '--upload-id', other]);
  t.equal(aborted.code, 0, aborted.stderr);
  const gone = await aws(server, ['s3api', 'list-parts', '--bucket', 'mpb', '--key', 'aborted.bin', '--upload-id', other]);
  t.not(gone.code, 0);
  t.match(gone.stderr, /NoSuchUpload/);
  const again = await aws(server, ['s3api', 'abort-multipart-upload', '--bucket', 'mpb', '--key', 'aborted.bin', '--upload-id', other]);
  t.match(again.stderr, /NoSuchUpload/, 'aborting twice: NoSuchUpload');
  const after = awsJson<{ Uploads?: unknown[] }>(await aws(server, ['s3api', 'list-multipart-uploads', '--bucket', 'mpb']));
  t.same(after.Uploads ?? [], []);
  const head = await aws(server, ['s3api', 'head-object', '--bucket', 'mpb', '--key', 'aborted.bin']);
  t.not(head.code, 0, 'an aborted upload leaves no object');
});

t.test('boto3: upload_file with 5 MiB parts, download_file, ETag, get_object PartNumber', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'pyb');
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'in.bin');
  const size = 23 * MiB + 123;
  const md5In = await writeRandomFile(file, size);
  const partMd5s = await partMd5sOfFile(file, 5 * MiB);
  const expectedETag = multipartETag(partMd5s);
  const result = lastJson<{ etag: string; downloaded: string; part2: string; part2len: number; parts: number; range: string; last: number; lastParts: number }>(
    await boto3(
      server,
      `
from boto3.s3.transfer import TransferConfig
cfg = TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024, max_concurrency=4)
s3.upload_file(${JSON.stringify(file)}, 'pyb', 'nested/obj.bin', Config=cfg, ExtraArgs={'ContentType': 'application/x-test', 'Metadata': {'who': 'boto3'}})
head = s3.head_object(Bucket='pyb', Key='nested/obj.bin')
out = ${JSON.stringify(join(dir, 'out.bin'))}
s3.download_file('pyb', 'nested/obj.bin', out, Config=cfg)
h = hashlib.md5()
with open(out, 'rb') as f:
    for chunk in iter(lambda: f.read(1 << 20), b''):
        h.update(chunk)
p2 = s3.get_object(Bucket='pyb', Key='nested/obj.bin', PartNumber=2)
body = p2['Body'].read()
p5 = s3.head_object(Bucket='pyb', Key='nested/obj.bin', PartNumber=5)
print(json.dumps({'etag': head['ETag'], 'downloaded': h.hexdigest(), 'part2': hashlib.md5(body).hexdigest(), 'part2len': len(body),
                  'parts': p2['PartsCount'], 'range': p2['ContentRange'], 'last': p5['ContentLength'], 'lastParts': p5['PartsCount']}))
`,
    ),
  );
  t.equal(result.etag, `"${expectedETag}"`, 'the multipart ETag of 5 MiB parts');
  t.match(result.etag, /-5"$/);
  t.equal(result.downloaded, md5In, 'download_file gets the bytes back');
  t.equal(result.part2, partMd5s[1], 'get_object PartNumber=2 returns the second part');
  t.equal(result.part2len, 5 * MiB);
  t.equal(result.parts, 5, 'x-amz-mp-parts-count');
  t.equal(result.range, `bytes ${5 * MiB}-${10 * MiB - 1}/${size}`);
  t.equal(result.last, size - 20 * MiB, 'the last part is the remainder');
  t.equal(result.lastParts, 5);
  t.equal(await md5OfFile(join(server.root, 'pyb', 'nested', 'obj.bin')), md5In);
});
