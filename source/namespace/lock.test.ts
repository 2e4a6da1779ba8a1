// Locks between processes on one cache dir: held by one at a time, a dead holder's lock taken
// over once, and a release that removes only its own lock.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { HOST } from './tmp';
import { FileLocks } from './lock';

/** Several lockers on one folder: each FileLocks stands for one process (its own in-memory queue). */
function lockers(t: tap.Test, count: number): { dir: string; all: FileLocks[] } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-locks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, all: Array.from({ length: count }, () => new FileLocks(dir)) };
}

t.test('a lock left by a dead process is taken over by exactly one of those racing for it', async (t) => {
  const { dir, all } = lockers(t, 4);
  let worst = 0;
  for (let trial = 0; trial < 100; trial++) {
    // pid 2^22 + 1 is above Linux's pid_max: a process that cannot be alive.
    writeFileSync(join(dir, 'ledger.lock'), `${HOST} 4194305-1 left`);
    let holding = 0;
    await Promise.all(
      all.map(async (locks) => {
        const release = await locks.acquire('ledger.lock');
        holding++;
        worst = Math.max(worst, holding);
        await new Promise((r) => setTimeout(r, 1));
        holding--;
        await release();
      }),
    );
  }
  t.equal(worst, 1, 'never two holders at once, over 100 take-overs by 4 lockers');
});

t.test('tryAcquire takes a free or stale lock, never a live one; a release removes only its own lock', async (t) => {
  const { dir, all } = lockers(t, 2);
  const [a, b] = all as [FileLocks, FileLocks];
  const release = await a.acquire('key.x');
  t.equal(await b.tryAcquire('key.x'), undefined, 'held by a live process: not taken');
  await release();
  const taken = await b.tryAcquire('key.x');
  t.ok(taken, 'free: taken');
  await release(); // a second release of a's old acquisition
  t.equal(await a.tryAcquire('key.x'), undefined, "a's stale release did not remove b's lock");
  await taken!();
  writeFileSync(join(dir, 'key.y'), `${HOST} 4194305-1 left`);
  t.ok(await a.tryAcquire('key.y'), "a dead holder's lock is taken over");
});
