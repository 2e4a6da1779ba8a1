// KeyMoves on real files: nest and unnest, and every state a move cut short by a crash can leave
// (built on disk as a killed process would leave it), finished at start or by the next reader.
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Layout } from './layout';
import { MetadataStore } from './metadata';
import { KeyMoves, stagingOf } from './moves';
import { statProbe } from './probes';
import { HOST } from './tmp';

/** A pid that certainly belongs to no process: one that just exited. */
const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;

async function fixture(t: tap.Test): Promise<{ layout: Layout; moves: KeyMoves; bucket: string }> {
  const base = mkdtempSync(join(tmpdir(), 'sluice-moves-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const layout = await Layout.open(join(base, 'root'));
  const bucket = join(layout.root, 'bkt');
  mkdirSync(bucket);
  return { layout, moves: new KeyMoves(layout, new MetadataStore(layout)), bucket };
}

/** The sequence file and lock of the key at `path` as a process killed during its move leaves them. */
function interrupted(layout: Layout, path: string, holder = deadPid): void {
  const rel = path.slice(layout.root.length + 1);
  const hash = layout.idOf(path);
  const file = join(layout.moves, hash);
  writeFileSync(file, rel);
  utimesSync(file, 3, 3); // odd: a move running
  writeFileSync(join(layout.moves, `${hash}.lock`), `${HOST} ${holder}`);
}

function sequences(layout: Layout): number[] {
  return readdirSync(layout.moves)
    .filter((n) => /^[0-9a-f]{40}$/.test(n))
    .map((n) => Math.round(statSync(join(layout.moves, n)).mtimeMs / 1000));
}

/** A staging folder holding `body` as the object (or the placeholder, when undefined). */
function staged(path: string, body: string | undefined): string {
  const staging = stagingOf(path);
  mkdirSync(staging);
  const slot = join(staging, '.sluice-object');
  writeFileSync(slot, body ?? '', { mode: body === undefined ? 0 : 0o644 });
  return slot;
}

t.test('nest moves the file inside a directory of its name; unnest moves it back', async (t) => {
  const { layout, moves, bucket } = await fixture(t);
  const logs = join(bucket, 'logs');
  writeFileSync(logs, 'LOGS');
  const inode = statSync(logs).ino;
  await moves.nest(logs, 'owner');
  t.equal(readFileSync(join(logs, '.sluice-object'), 'utf8'), 'LOGS');
  t.equal(statSync(join(logs, '.sluice-object')).ino, inode, 'the same file');
  t.same(readdirSync(bucket), ['logs'], 'no staging folder left');
  t.ok(await moves.flags.mayHold(bucket), 'its directory is flagged for listings');
  t.notOk(await moves.flags.mayHold(logs), 'not the directories that hold no nested directory');
  await moves.nest(logs, 'owner'); // a directory already: nothing to do
  t.same(readdirSync(logs), ['.sluice-object']);
  // Unnest needs sluice's marks on the directory (nest wrote them) and nothing else inside.
  writeFileSync(join(logs, 'other'), 'x');
  await moves.unnestIfAlone(logs, statSync(logs, { bigint: true }));
  t.ok(statSync(logs).isDirectory(), 'not alone: it stays nested');
  rmSync(join(logs, 'other'));
  await moves.unnestIfAlone(logs, statSync(logs, { bigint: true }));
  t.ok(statSync(logs).isFile(), 'alone: a plain file again');
  t.equal(statSync(logs).ino, inode);
  t.same(sequences(layout), [8], 'four runs under the lock (two of them found nothing to move): odd in each, even at rest');
});

t.test('a crash after the file went to staging: the restart puts it back at its path', async (t) => {
  const { layout, moves, bucket } = await fixture(t);
  const logs = join(bucket, 'logs');
  staged(logs, 'LOGS');
  interrupted(layout, logs);
  t.equal(await moves.recoverAll(), 1, 'one move finished');
  t.equal(readFileSync(logs, 'utf8'), 'LOGS', 'a plain file (the deeper key never came)');
  t.same(readdirSync(bucket), ['logs'], 'the staging folder is gone');
  t.ok(sequences(layout).every((n) => n % 2 === 0), 'its sequence is even');
});

t.test('a crash with a directory made at the path meanwhile: the object goes inside it', async (t) => {
  const { layout, moves, bucket } = await fixture(t);
  const logs = join(bucket, 'logs');
  staged(logs, 'LOGS');
  mkdirSync(logs);
  writeFileSync(join(logs, 'x'), 'deeper');
  interrupted(layout, logs);
  await moves.recoverAll();
  t.equal(readFileSync(join(logs, '.sluice-object'), 'utf8'), 'LOGS');
  t.equal(readFileSync(join(logs, 'x'), 'utf8'), 'deeper');
  t.same(readdirSync(bucket), ['logs']);
});

t.test('a crash after an unnest linked the file back: one file, not two', async (t) => {
  const { layout, moves, bucket } = await fixture(t);
  const logs = join(bucket, 'logs');
  const slot = staged(logs, 'LOGS');
  linkSync(slot, logs);
  interrupted(layout, logs);
  await moves.recoverAll();
  t.equal(readFileSync(logs, 'utf8'), 'LOGS');
  t.equal(statSync(logs).nlink, 1, 'the staging name is gone, the file is whole');
  t.same(readdirSync(bucket), ['logs']);
});

t.test('a crash before anything moved, or after a newer version arrived: the object at the path wins', async (t) => {
  const { layout, moves, bucket } = await fixture(t);
  const logs = join(bucket, 'logs');
  writeFileSync(logs, 'LOGS');
  staged(logs, undefined); // the placeholder only
  interrupted(layout, logs);
  const newer = join(bucket, 'newer');
  writeFileSync(newer, 'NEW');
  staged(newer, 'OLD');
  interrupted(layout, newer);
  t.equal(await moves.recoverAll(), 2);
  t.equal(readFileSync(logs, 'utf8'), 'LOGS', 'a placeholder is not an object');
  t.equal(readFileSync(newer, 'utf8'), 'NEW', 'an older version in staging never replaces a newer one');
  t.same(readdirSync(bucket).sort(), ['logs', 'newer']);
});

t.test('a move whose holder lives is left to it at start', async (t) => {
  const { layout, moves, bucket } = await fixture(t);
  const logs = join(bucket, 'logs');
  staged(logs, 'LOGS');
  interrupted(layout, logs, process.pid);
  t.equal(await moves.recoverAll(60_000), 0, 'nothing finished');
  t.ok(existsSync(stagingOf(logs)), 'the staging folder is the live holder\'s');
});

t.test('a reader finds an object left in staging, and finishes its move', async (t) => {
  const { layout, moves, bucket } = await fixture(t);
  const logs = join(bucket, 'logs');
  staged(logs, 'LOGS');
  interrupted(layout, logs);
  t.equal(await moves.locate(join(bucket, 'absent'), statProbe), undefined, 'a key that never moved: absent at once');
  const started = Date.now();
  const found = await moves.locate(logs, statProbe);
  t.equal(found?.path, logs, 'found at its path once the move is finished');
  t.ok(Date.now() - started >= 900, 'after waiting for the move a moment first');
  t.same(readdirSync(bucket), ['logs']);
});
