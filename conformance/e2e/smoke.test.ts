// The shortest path through the server: create a bucket, put, get, list, delete, with the aws cli.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aws, startSluice, tempDir } from '../lib/harness';

t.test('aws cli round trip', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  const dir = tempDir();
  const file = join(dir, 'in.bin');
  const bytes = Buffer.alloc(27040, 'sluice');
  writeFileSync(file, bytes);
  const md5 = createHash('md5').update(bytes).digest('hex');

  t.equal((await aws(server, ['s3api', 'create-bucket', '--bucket', 'smoke'])).code, 0);
  const put = await aws(server, ['s3api', 'put-object', '--bucket', 'smoke', '--key', 'a/b.txt', '--body', file]);
  t.equal(put.code, 0, put.stderr);
  t.equal(JSON.parse(put.stdout).ETag, `"${md5}"`);
  t.same(readFileSync(join(server.root, 'smoke', 'a', 'b.txt')), bytes, 'the object is a plain file at its key');

  const out = join(dir, 'out.bin');
  const get = await aws(server, ['s3api', 'get-object', '--bucket', 'smoke', '--key', 'a/b.txt', out]);
  t.equal(get.code, 0, get.stderr);
  t.same(readFileSync(out), bytes);

  const list = JSON.parse((await aws(server, ['s3api', 'list-objects-v2', '--bucket', 'smoke'])).stdout);
  t.same(
    list.Contents.map((c: { Key: string }) => c.Key),
    ['a/', 'a/b.txt'],
  );
  t.equal((await aws(server, ['s3api', 'delete-object', '--bucket', 'smoke', '--key', 'a/b.txt'])).code, 0);
  const after = JSON.parse((await aws(server, ['s3api', 'list-objects-v2', '--bucket', 'smoke'])).stdout || '{}');
  t.same(after.Contents ?? [], [], 'the empty parent sluice created is gone');
});
