// KeyWalker on a real directory tree: S3's UTF-8 byte order across directories, bounds, skip().
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { Layout } from './layout';
import { compareKeys, KeyWalker, type WalkEntry } from './listing';

// Files of the bucket; a key ending in `/` is an (empty) directory.
const TREE = [
  'a-b',
  'a/b',
  'a/c/d',
  'a0',
  'ab/x',
  'b',
  'caf\u00e9', // C3 A9
  '\ue000', // EE 80 80
  '\uff21', // EF BC A1
  '\ufffd', // EF BF BD
  '\u{1f600}', // F0 9F 98 80: after U+E000-U+FFFF in UTF-8, before them in UTF-16
  'mixed/\u{1f600}/x',
  'mixed/\uffff-dir/y',
  'mixed/~',
  'deep/1/2/3/4/file',
  'deep/1/2/3/5',
  'deep/1/2/x',
  'deep/1/20',
  'deep/1/2-',
  'dir-z/q',
  'dir.x',
  'dir/y',
  'dir0',
  'empty/',
  'z',
];

interface Fixture {
  layout: Layout;
  bucketDir: string;
  /** Every key the walker should know: files, and every directory as `dir/`. */
  keys: string[];
}

async function fixture(t: tap.Test): Promise<Fixture> {
  const base = mkdtempSync(join(tmpdir(), 'sluice-listing-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const layout = await Layout.open(join(base, 'root'));
  const bucketDir = join(layout.root, 'bkt');
  const keys = new Set<string>();
  for (const key of TREE) {
    const path = join(bucketDir, ...key.split('/').filter((s) => s !== ''));
    if (key.endsWith('/')) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, key);
    }
    const segments = key.split('/');
    for (let i = 1; i < segments.length; i++) keys.add(`${segments.slice(0, i).join('/')}/`);
    if (!key.endsWith('/')) keys.add(key);
  }
  // Never listed: sluice's hidden temp files, links to directories, links that leave ROOT.
  writeFileSync(join(bucketDir, 'a', '.sluice-tmp.host.1.abc'), 'partial');
  writeFileSync(join(base, 'outside'), 'secret');
  symlinkSync(join(base, 'outside'), join(bucketDir, 'link-out'));
  symlinkSync(join(bucketDir, 'a'), join(bucketDir, 'link-dir'));
  symlinkSync(join(layout.internal, 'secret-ish'), join(bucketDir, 'link-internal'));
  writeFileSync(join(layout.internal, 'secret-ish'), 'internal');
  // Listed: a link to a file inside ROOT is a file.
  symlinkSync(join(bucketDir, 'b'), join(bucketDir, 'link-file'));
  keys.add('link-file');
  return { layout, bucketDir, keys: [...keys] };
}

async function walk(f: Fixture, prefix: string, after?: string): Promise<WalkEntry[]> {
  const walker = new KeyWalker(f.layout, f.bucketDir, after === undefined ? { prefix } : { prefix, after });
  const out: WalkEntry[] = [];
  for (let entry = await walker.next(); entry; entry = await walker.next()) out.push(entry);
  return out;
}

function reference(f: Fixture, prefix: string, after?: string): string[] {
  return f.keys.filter((k) => k.startsWith(prefix) && (after === undefined || compareKeys(k, after) > 0)).sort(compareKeys);
}

t.test('compareKeys is UTF-8 byte order, not UTF-16', async (t) => {
  t.ok(compareKeys('a-b', 'a/b') < 0);
  t.ok(compareKeys('a/', 'a/b') < 0);
  t.ok(compareKeys('a/b', 'a0') < 0);
  t.ok(compareKeys('\uffff', '\u{1f600}') < 0, 'U+FFFF before U+1F600 in bytes');
  t.equal(compareKeys('same', 'same'), 0);
});

t.test('a full walk: every file and directory key in byte order', async (t) => {
  const f = await fixture(t);
  const entries = await walk(f, '');
  const keys = entries.map((e) => e.key);
  t.same(keys, reference(f, ''));
  t.same(keys.slice(0, 7), ['a-b', 'a/', 'a/b', 'a/c/', 'a/c/d', 'a0', 'ab/'], '`a-b` before `a/`, a directory before its contents');
  t.same(
    keys.filter((k) => ['\ue000', '\uff21', '\ufffd', '\u{1f600}'].includes(k)),
    ['\ue000', '\uff21', '\ufffd', '\u{1f600}'],
    'non-BMP after U+E000-U+FFFF',
  );
  t.same(
    keys.filter((k) => k.startsWith('mixed/')),
    ['mixed/', 'mixed/~', 'mixed/\uffff-dir/', 'mixed/\uffff-dir/y', 'mixed/\u{1f600}/', 'mixed/\u{1f600}/x'],
  );
  t.same(
    keys.filter((k) => k.startsWith('deep/1/2')),
    ['deep/1/2-', 'deep/1/2/', 'deep/1/2/3/', 'deep/1/2/3/4/', 'deep/1/2/3/4/file', 'deep/1/2/3/5', 'deep/1/2/x', 'deep/1/20'],
  );
  t.same(
    keys.filter((k) => k.startsWith('dir')),
    ['dir-z/', 'dir-z/q', 'dir.x', 'dir/', 'dir/y', 'dir0'],
  );
  t.ok(keys.includes('empty/'), 'an empty directory is a key');
  t.notOk(
    keys.some((k) => k.includes('.sluice-tmp.')),
    'no temp files',
  );
  t.notOk(
    keys.some((k) => k.startsWith('link-out') || k.startsWith('link-dir') || k.startsWith('link-internal')),
    'no links out of the servable tree, none to directories',
  );
  const link = entries.find((e) => e.key === 'link-file');
  t.equal(link?.kind, 'file');
  const dir = entries.find((e) => e.key === 'a/c/');
  t.same(dir, { key: 'a/c/', kind: 'dir', path: join(f.bucketDir, 'a', 'c') });
  const file = entries.find((e) => e.key === 'a/c/d');
  t.same(file, { key: 'a/c/d', kind: 'file', path: join(f.bucketDir, 'a', 'c', 'd') });
});

t.test('prefixes: a directory, the middle of a name, a file, nothing', async (t) => {
  const f = await fixture(t);
  const cases: [string, string[]][] = [
    ['a/', ['a/', 'a/b', 'a/c/', 'a/c/d']],
    ['a', ['a-b', 'a/', 'a/b', 'a/c/', 'a/c/d', 'a0', 'ab/', 'ab/x']],
    ['a/c', ['a/c/', 'a/c/d']],
    ['a/c/d', ['a/c/d']],
    ['dir', ['dir-z/', 'dir-z/q', 'dir.x', 'dir/', 'dir/y', 'dir0']],
    [
      'deep/1/2',
      ['deep/1/2-', 'deep/1/2/', 'deep/1/2/3/', 'deep/1/2/3/4/', 'deep/1/2/3/4/file', 'deep/1/2/3/5', 'deep/1/2/x', 'deep/1/20'],
    ],
    ['deep/1/2/3/4/f', ['deep/1/2/3/4/file']],
    ['mixed/\uffff', ['mixed/\uffff-dir/', 'mixed/\uffff-dir/y']],
    ['empty/', ['empty/']],
    ['nothing', []],
    ['nothing/', []],
    ['b/', []],
    ['a//', []],
    ['../', []],
    ['a/../', []],
  ];
  for (const [prefix, expected] of cases) {
    t.same(
      (await walk(f, prefix)).map((e) => e.key),
      expected,
      JSON.stringify(prefix),
    );
  }
});

t.test('`after` bounds, deep in the tree and between keys', async (t) => {
  const f = await fixture(t);
  t.same((await walk(f, '', 'deep/1/2/3/4/file')).map((e) => e.key).slice(0, 5), [
    'deep/1/2/3/5',
    'deep/1/2/x',
    'deep/1/20',
    'dir-z/',
    'dir-z/q',
  ]);
  t.same(
    (await walk(f, 'deep/', 'deep/1/2/3/')).map((e) => e.key),
    ['deep/1/2/3/4/', 'deep/1/2/3/4/file', 'deep/1/2/3/5', 'deep/1/2/x', 'deep/1/20'],
  );
  t.same(
    (await walk(f, 'a/', 'a/')).map((e) => e.key),
    ['a/b', 'a/c/', 'a/c/d'],
    'after the directory key itself',
  );
  t.same(
    (await walk(f, 'a/', 'a/c/d')).map((e) => e.key),
    [],
  );
  t.same((await walk(f, '', 'a.')).map((e) => e.key).slice(0, 3), ['a/', 'a/b', 'a/c/'], 'a start key that is no key');
  t.same((await walk(f, '', '\ufffd')).map((e) => e.key).slice(0, 1), ['\u{1f600}']);
  t.same(
    (await walk(f, 'mixed/', 'mixed/\uffff-dir/y')).map((e) => e.key),
    ['mixed/\u{1f600}/', 'mixed/\u{1f600}/x'],
  );
  t.same(await walk(f, '', '\u{10ffff}'), [], 'after every key');
});

t.test('every prefix and start key agree with a sort of all keys', async (t) => {
  const f = await fixture(t);
  const probes = new Set<string>(['', 'a', 'd', 'deep/1/2/3', 'dir/', 'mixed/', '\ue000', '\u{1f600}', 'zz']);
  for (const key of f.keys) {
    probes.add(key);
    probes.add(key.slice(0, -1));
    probes.add(`${key}\u0000`.slice(0, -1) + '!');
  }
  const prefixes = [
    '',
    'a',
    'a/',
    'a/c/',
    'a/c/d',
    'deep/',
    'deep/1/2',
    'deep/1/2/3/',
    'deep/1/2/3/4/',
    'dir',
    'mixed/',
    'mixed/\uffff',
    'nothing/',
  ];
  let mismatches = 0;
  let checked = 0;
  for (const prefix of prefixes) {
    for (const after of [undefined, ...probes]) {
      const got = (await walk(f, prefix, after)).map((e) => e.key);
      const expected = reference(f, prefix, after);
      checked++;
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        mismatches++;
        if (mismatches <= 3) t.same(got, expected, `prefix ${JSON.stringify(prefix)} after ${JSON.stringify(after)}`);
      }
    }
  }
  t.equal(mismatches, 0, `${checked} prefix/start pairs`);
});

/** A ListObjects with a delimiter, as the s3 layer drives the walker: a common prefix is skipped whole. */
async function listWithDelimiter(f: Fixture, prefix: string, delimiter: string): Promise<{ keys: string[]; prefixes: string[] }> {
  const walker = new KeyWalker(f.layout, f.bucketDir, { prefix });
  const keys: string[] = [];
  const prefixes: string[] = [];
  for (let entry = await walker.next(); entry; entry = await walker.next()) {
    const at = entry.key.indexOf(delimiter, prefix.length);
    if (at >= 0) {
      const common = entry.key.slice(0, at + delimiter.length);
      prefixes.push(common);
      walker.skip(common);
    } else {
      keys.push(entry.key);
    }
  }
  return { keys, prefixes };
}

function referenceDelimited(f: Fixture, prefix: string, delimiter: string): { keys: string[]; prefixes: string[] } {
  const keys: string[] = [];
  const prefixes: string[] = [];
  for (const key of reference(f, prefix)) {
    const at = key.indexOf(delimiter, prefix.length);
    if (at < 0) keys.push(key);
    else if (!prefixes.includes(key.slice(0, at + delimiter.length))) prefixes.push(key.slice(0, at + delimiter.length));
  }
  return { keys, prefixes };
}

t.test('skip() drops a common prefix whole', async (t) => {
  const f = await fixture(t);
  t.same(await listWithDelimiter(f, '', '/'), referenceDelimited(f, '', '/'));
  t.same((await listWithDelimiter(f, '', '/')).prefixes.slice(0, 3), ['a/', 'ab/', 'deep/']);
  t.same(
    await listWithDelimiter(f, 'deep/1/', '/'),
    { keys: ['deep/1/', 'deep/1/2-', 'deep/1/20'], prefixes: ['deep/1/2/'] },
    'the folder key equal to the prefix is a key',
  );
  for (const [prefix, delimiter] of [
    ['', '-'],
    ['', '2'],
    ['deep/', '/3'],
    ['', 'c'],
    ['a', '/'],
    ['mixed/', '/'],
    ['deep/1/2', '/'],
    ['', '/2/'],
    ['', '\u{1f600}'],
    ['mixed/', '\uffff'],
  ] as const) {
    t.same(
      await listWithDelimiter(f, prefix, delimiter),
      referenceDelimited(f, prefix, delimiter),
      `prefix ${prefix} delimiter ${delimiter}`,
    );
  }
});

t.test('a directory is read only when the walk goes into it, so a skipped one is never read', async (t) => {
  const f = await fixture(t);
  const into = new KeyWalker(f.layout, f.bucketDir, { prefix: 'ab' });
  t.equal((await into.next())?.key, 'ab/');
  writeFileSync(join(f.bucketDir, 'ab', 'added-after'), '');
  t.same(
    [(await into.next())?.key, (await into.next())?.key, await into.next()],
    ['ab/added-after', 'ab/x', undefined],
    'read after the directory key was returned',
  );

  const skipped = new KeyWalker(f.layout, f.bucketDir, { prefix: 'a' });
  const seen: string[] = [];
  for (let entry = await skipped.next(); entry; entry = await skipped.next()) {
    seen.push(entry.key);
    if (entry.key === 'a/') skipped.skip('a/');
  }
  t.same(seen, ['a-b', 'a/', 'a0', 'ab/', 'ab/added-after', 'ab/x'], 'nothing below the skipped a/');
});

t.test('an object nested in a directory of its name comes at its own place; sluice names never', async (t) => {
  const f = await fixture(t);
  const n = join(f.bucketDir, 'n');
  mkdirSync(join(n, 'sub'), { recursive: true });
  writeFileSync(join(n, '.sluice-object'), 'the object n');
  writeFileSync(join(n, '.sluice-folder'), 'the bytes of n/');
  writeFileSync(join(n, 'sub', 'x'), 'x');
  mkdirSync(join(f.bucketDir, '.sluice-tmp.nest.0123'));
  for (const name of ['n!', 'n.txt', 'n0']) writeFileSync(join(f.bucketDir, name), name);
  const keys = async (prefix: string, after?: string): Promise<string[]> => (await walk(f, prefix, after)).map((e) => e.key);
  t.same(await keys('n'), ['n', 'n!', 'n.txt', 'n/', 'n/sub/', 'n/sub/x', 'n0'], '`n` before `n!` and `n/`');
  const entry = (await walk(f, 'n')).find((e) => e.key === 'n');
  t.same(entry, { key: 'n', kind: 'file', path: join(n, '.sluice-object') }, 'the nested file is what is described');
  t.same(await keys('n', 'n'), ['n!', 'n.txt', 'n/', 'n/sub/', 'n/sub/x', 'n0'], 'a walk that starts after it');
  t.same(await keys('n', 'm'), await keys('n'), 'and before it');
  t.same(await keys('n/'), ['n/', 'n/sub/', 'n/sub/x'], 'inside the directory: never the nested file itself');
  const all = await keys('');
  t.notOk(all.some((k) => k.includes('.sluice-')), 'no .sluice-object, .sluice-folder or staging folder');
  const none = new KeyWalker(f.layout, f.bucketDir, { prefix: 'n' }, { mayHold: async () => false, find: async () => 'never asked' });
  const unflagged: string[] = [];
  for (let e = await none.next(); e; e = await none.next()) unflagged.push(e.key);
  t.notOk(unflagged.includes('n'), 'a tree that never held a nested object is not looked into');
});
