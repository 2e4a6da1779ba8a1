// Multipart uploads driven by real clients' managed transfers: `aws s3 cp` of a 100 MiB file (8 MiB
// parts) and boto3's upload_file/download_file with 5 MiB parts; each checks the bytes and the
// multipart ETag computed here from the file. (The s3api commands one by one: multipart-s3api.)
import { join } from 'node:path';
import t from 'tap';
import { aws, awsJson, boto3, createBucket, lastJson, md5OfFile, startSluice } from '../lib/harness';
import { MiB, multipartETag, randomFile } from '../lib/multipart-helpers';

t.test('aws s3 cp of a 100 MiB file: multipart upload, download, bytes and ETag', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'big');
  const { dir, path: file, md5: md5In, partMd5s } = await randomFile(t, 100 * MiB, 8 * MiB);
  // The aws cli splits at 8 MiB: 12 full parts and a 4 MiB last one.
  const expectedETag = multipartETag(partMd5s);
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

t.test('boto3: upload_file with 5 MiB parts, download_file, ETag, get_object PartNumber', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'pyb');
  const size = 23 * MiB + 123;
  const { dir, path: file, md5: md5In, partMd5s } = await randomFile(t, size, 5 * MiB);
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
