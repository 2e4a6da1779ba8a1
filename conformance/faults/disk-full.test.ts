// A full disk: ROOT on a small tmpfs. Writes fail with a clear error and leave nothing partial,
// reads go on, and writes work again once space is freed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { errorCode, s3, startSluice, tempDir, xmlValues } from '../lib/harness';

function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e).trim();
  }
}

const why = (() => {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  return undefined;
})();

t.test('full disk', { skip: why ? `cannot make a small filesystem here: ${why}` : false }, async (t) => {
  const mountPoint = tempDir('sluice-full-');
  mkdirSync(mountPoint, { recursive: true });
  const failure = mountTmpfs(mountPoint, '24m');
  if (failure) {
    t.comment(`skipped: cannot mount a tmpfs here: ${failure}`);
    return;
  }
  t.teardown(() => execFileSync('umount', ['-l', mountPoint]));
  const server = await startSluice({ root: mountPoint, args: ['--access-log=false'] });
  t.teardown(() => server.stop());
  t.equal((await s3(server, 'PUT', '/full')).status, 200);
  const chunk = Buffer.alloc(4 * 1024 * 1024, 'f');
  t.equal((await s3(server, 'PUT', '/full/keep', { body: 'still here' })).status, 200);

  const stored: string[] = [];
  let refusal: { status: number; code: string | undefined; key: string } | undefined;
  for (let i = 0; i < 20 && !refusal; i++) {
    const res = await s3(server, 'PUT', `/full/fill-${i}`, { body: chunk });
    if (res.status === 200) stored.push(`fill-${i}`);
    else refusal = { status: res.status, code: errorCode(res), key: `fill-${i}` };
  }
  t.ok(refusal, 'a write was refused once the disk was full');
  t.equal(refusal?.status, 507, 'with 507 Insufficient Storage');
  t.equal(refusal?.code, 'InsufficientStorage');
  t.same(readdirSync(join(mountPoint, '.sluice', 'tmp')), [], 'nothing partial in the temp folder');
  t.equal((await s3(server, 'HEAD', `/full/${refusal!.key}`)).status, 404, 'no partial object');
  t.equal((await s3(server, 'GET', '/full/keep')).text, 'still here', 'reads go on');
  const listed = xmlValues((await s3(server, 'GET', '/full?list-type=2')).text, 'Key');
  t.same(listed.sort(), ['keep', ...stored].sort(), 'listings go on and show only whole objects');

  for (const key of stored.slice(0, 2)) t.equal((await s3(server, 'DELETE', `/full/${key}`)).status, 204);
  const again = await s3(server, 'PUT', '/full/after', { body: chunk });
  t.equal(again.status, 200, 'writes work again once space is freed');
  t.equal((await s3(server, 'GET', '/full/after')).body.length, chunk.length);
});
