// The layer checker: the real tree passes; a planted import that runs back up, or a folder
// missing from the table, fails it, as `make lint` does.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import t from 'tap';
import { layerViolations, tableCycles } from './check-layers';

const SOURCE = resolve(__dirname, '..', '..', 'source');
const CHECKER = join(__dirname, 'check-layers.js');

/** A small source tree in a temp dir: path → content. */
function tree(t: tap.Test, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-layers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

t.test('sluice itself keeps its layers, and the table has no cycle', async (t) => {
  t.same(layerViolations(SOURCE), []);
  t.same(tableCycles(), []);
  const run = spawnSync(process.execPath, [CHECKER, SOURCE], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
});

t.test('an import from a lower layer to a higher one fails, naming the file and the rule', async (t) => {
  const dir = tree(t, {
    'errors/index.ts': "export const x = 1;\n",
    'namespace/objects.ts': "import { x } from '../errors';\nimport type { Exchange } from '../http/server';\nexport { x };\n",
    'http/server.ts': "export interface Exchange { id: string }\n",
  });
  const problems = layerViolations(dir);
  t.equal(problems.length, 1);
  t.match(problems[0], /namespace\/objects\.ts imports \.\.\/http\/server: namespace\/ may import only errors, config, streams/);
  const run = spawnSync(process.execPath, [CHECKER, dir], { encoding: 'utf8' });
  t.equal(run.status, 1);
  t.match(run.stderr, /1 import\(s\) break the layers/);
});

t.test('re-exports, two folders importing each other, unknown folders and escapes are caught too', async (t) => {
  const dir = tree(t, {
    'http/a.ts': "export * from '../s3/b';\n",
    's3/b.ts': "export { a } from '../http/a';\nexport const b = 1;\n",
    'plugins/c.ts': 'export const c = 1;\n',
    'streams/d.ts': "import '../../outside';\n",
  });
  const problems = layerViolations(dir).join('\n');
  t.match(problems, /http\/a\.ts imports \.\.\/s3\/b/, 'the lower half of a pair that import each other');
  t.notMatch(problems, /s3\/b\.ts imports/, 's3 may import http');
  t.match(problems, /folder "plugins" has no row/);
  t.match(problems, /streams\/d\.ts imports \.\.\/\.\.\/outside, outside source/);
});
