// Objects moving between their file and a directory of their name (see source/namespace/moves.ts)
// under load and under kill -9. Readers of `logs` on two sluice processes over one ROOT, while
// `logs/x` is written and deleted in a loop (each round nests `logs`, then gives it back as a
// file) and `logs` itself is overwritten, never see NoSuchKey nor bytes of no written version;
// listings always hold `logs` once. A process killed in the middle of a move (renames slowed by
// strace so that the kill lands inside one) leaves a tree that, after a restart, holds every
// object whole and reachable, and nothing of the move.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { commandExists, filesUnder, s3, startSluice, tempDir, waitFor, xmlValues, type Sluice } from '../lib/harness';
import { call as callAs, makeVersion, sleep } from './lib';

const SECONDS = Number(process.env.NESTED_SECONDS ?? 15);
const B = 'moves';

// The user s3() signs as, so that the bucket it creates is the writers' own.
const AUTH = { Authorization: 'AWS4-HMAC-SHA256 Credential=testuser/x' };
const version = (n: number): Buffer => makeVersion('logs', n);
const call = (server: Sluice, agent: Agent, method: string, path: string, body?: Buffer): ReturnType<typeof callAs> =>
  callAs(server, agent, method, path, body, AUTH);

/** Runs `step` on a kept-alive connection of its own until `deadline`. */
async function until(deadline: number, step: (agent: Agent, i: number) => Promise<void>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; Date.now() < deadline; i++) await step(agent, i);
  } finally {
    agent.destroy();
  }
}

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

/** The processes below `pid` (sluice below its strace wrapper). */
function descendants(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '').map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** Staging folders of moves, anywhere in the bucket. */
const stagingLeft = (root: string): string[] => filesUnder(join(root, B)).filter((p) => p.includes('.sluice-tmp.nest.'));

/** Sequence files of moves (see moves.ts) whose number is odd: a move not finished. */
function oddSequences(root: string): string[] {
  const dir = join(root, '.sluice', 'moves');
  return readdirSync(dir).filter((n) => /^[0-9a-f]{40}$/.test(n) && Math.round(statSync(join(dir, n)).mtimeMs / 1000) % 2 === 1);
}

t.test(`readers across two processes while logs nests and unnests for ${SECONDS} s`, async (t) => {
  const root = tempDir();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const servers = [await startSluice({ root, args: ['--access-log=false'] }), await startSluice({ root, args: ['--access-log=false'] })];
  t.teardown(() => Promise.all(servers.map((s) => s.stop())));
  t.equal((await s3(servers[0]!, 'PUT', `/${B}`)).status, 200);
  const written = new Map<string, number>(); // md5 -> version
  const first = version(0);
  written.set(md5(first), 0);
  t.equal((await s3(servers[0]!, 'PUT', `/${B}/logs`, { body: first })).status, 200);

  const deadline = Date.now() + SECONDS * 1000;
  const counts = { gets: 0, heads: 0, lists: 0, rounds: 0, overwrites: 0 };
  const problems: string[] = [];
  const problem = (what: string): void => void (problems.length < 20 && problems.push(what));

  const reader = (server: Sluice): Promise<void> =>
    until(deadline, async (agent, i) => {
      if (i % 8 === 7) {
        const head = await call(server, agent, 'HEAD', `/${B}/logs`);
        counts.heads++;
        if (head.status !== 200) problem(`HEAD logs: ${head.status}`);
        return;
      }
      const got = await call(server, agent, 'GET', `/${B}/logs`);
      counts.gets++;
      if (got.status !== 200) return problem(`GET logs: ${got.status} ${got.body.toString().slice(0, 200)}`);
      const digest = md5(got.body);
      if (!written.has(digest)) problem(`GET logs: bytes of no written version (${got.body.subarray(0, 30).toString()})`);
      if (String(got.headers.etag) !== `"${digest}"`) problem(`GET logs: ETag ${String(got.headers.etag)} for bytes ${digest}`);
    });

  const lister = (): Promise<void> =>
    until(deadline, async (agent, i) => {
      const res = await call(servers[i % 2]!, agent, 'GET', `/${B}?list-type=2&prefix=logs`);
      counts.lists++;
      const keys = xmlValues(res.body.toString(), 'Key');
      if (res.status !== 200 || keys.filter((k) => k === 'logs').length !== 1) problem(`list: ${res.status} ${keys.join(' ')}`);
      await sleep(5);
    });

  // Each round: logs/x written through one process (logs nests), deleted through the other (logs comes back as a file).
  const nester = (): Promise<void> =>
    until(deadline, async (agent, i) => {
      const put = await call(servers[i % 2]!, agent, 'PUT', `/${B}/logs/x`, Buffer.from(`x ${i}`));
      if (put.status !== 200) problem(`PUT logs/x: ${put.status} ${put.body.toString().slice(0, 200)}`);
      const del = await call(servers[(i + 1) % 2]!, agent, 'DELETE', `/${B}/logs/x`);
      if (del.status !== 204) problem(`DELETE logs/x: ${del.status}`);
      counts.rounds++;
    });

  // And logs itself is overwritten now and then, through either process: a write racing a move.
  const overwriter = (): Promise<void> =>
    until(deadline, async (agent, i) => {
      const body = version(i + 1);
      written.set(md5(body), i + 1);
      const put = await call(servers[i % 2]!, agent, 'PUT', `/${B}/logs`, body);
      if (put.status !== 200) problem(`PUT logs: ${put.status}`);
      counts.overwrites++;
      await sleep(20);
    });

  await Promise.all([...servers.flatMap((s) => [reader(s), reader(s), reader(s)]), lister(), nester(), overwriter()]);
  t.comment(`${counts.rounds} nest/unnest rounds, ${counts.overwrites} overwrites, ${counts.gets} GETs, ${counts.heads} HEADs, ${counts.lists} listings`);
  t.same(problems, [], 'no reader saw NoSuchKey or bytes of no version, no listing missed logs');
  t.ok(counts.rounds >= 20, `logs moved in and out ${counts.rounds} times`);
  t.ok(counts.gets >= 200, `${counts.gets} GETs`);
  t.same(stagingLeft(root), [], 'no staging folder is left');
  t.same(oddSequences(root), [], 'no move is left unfinished');
  t.same(filesUnder(join(root, B)), ['logs'], 'logs is a plain file again, nothing else');
});

t.test('kill -9 in the middle of moves: after a restart every object is whole and reachable', { skip: commandExists('strace') ? false : 'strace is not installed (apt-get install -y strace)' }, async (t) => {
  const root = tempDir();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  // Every rename and link takes 30 ms: a move is a few of them, so a kill at a random moment lands inside one most of the time.
  const slow = ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename,renameat,renameat2,link,linkat', '-e', 'inject=rename,renameat,renameat2,link,linkat:delay_enter=30000'];
  const base = version(0);
  let midMove = 0;
  let rounds = 0;
  for (; rounds < 30 && (midMove < 4 || rounds < 8); rounds++) {
    const server = await startSluice({ root, wrapper: slow, args: ['--access-log=false'] });
    if (rounds === 0) {
      t.equal((await s3(server, 'PUT', `/${B}`)).status, 200);
      t.equal((await s3(server, 'PUT', `/${B}/logs`, { body: base })).status, 200);
      t.equal((await s3(server, 'PUT', `/${B}/photos/`, { body: 'folder bytes' })).status, 200);
    }
    // logs/x comes and goes (logs nests and unnests) until the kill.
    let stop = false;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const loop = (async () => {
      while (!stop) {
        await call(server, agent, 'PUT', `/${B}/logs/x`, Buffer.from(`x of round ${rounds}`)).catch(() => undefined);
        await call(server, agent, 'DELETE', `/${B}/logs/x`).catch(() => undefined);
      }
    })();
    await sleep(300 + Math.floor(Math.random() * 900));
    const killed = descendants(server.process.pid!);
    await server.stop(); // SIGKILL to sluice (and strace)
    // Reaped, not a zombie a restart would take for a live holder of its locks.
    await waitFor(() => killed.every((pid) => !existsSync(`/proc/${pid}`)), 'the killed sluice to be reaped', 10_000);
    stop = true;
    await loop;
    agent.destroy();
    if (stagingLeft(root).length > 0 || oddSequences(root).length > 0) midMove++;

    const after = await startSluice({ root, args: ['--access-log=false'] });
    try {
      const logs = await s3(after, 'GET', `/${B}/logs`);
      t.equal(logs.status, 200, `round ${rounds}: logs is reachable`);
      t.equal(md5(logs.body), md5(base), `round ${rounds}: logs is whole, its one version`);
      t.equal(String(logs.headers.etag), `"${md5(base)}"`);
      t.equal((await s3(after, 'GET', `/${B}/photos/`)).text, 'folder bytes', `round ${rounds}: photos/ is whole`);
      const keys = xmlValues((await s3(after, 'GET', `/${B}?list-type=2`)).text, 'Key');
      t.equal(keys.filter((k) => k === 'logs').length, 1, `round ${rounds}: logs is listed once`);
      for (const key of keys.filter((k) => k.startsWith('logs/x'))) {
        const res = await s3(after, 'GET', `/${B}/${key}`);
        t.equal(res.status, 200, `round ${rounds}: listed ${key} is reachable`);
        t.match(res.text, /^x of round \d+$/, `round ${rounds}: ${key} is whole`);
      }
      t.same(stagingLeft(root), [], `round ${rounds}: the restart finished the move: no staging folder`);
      t.same(oddSequences(root), [], `round ${rounds}: no move unfinished`);
      const placeholders = filesUnder(join(root, B)).filter((p) => p.endsWith('.sluice-object') && statSync(join(root, B, p)).size === 0);
      t.same(placeholders, [], `round ${rounds}: no placeholder stands in for an object`);
      if (statSync(join(root, B, 'logs')).isDirectory()) {
        t.equal(readFileSync(join(root, B, 'logs', '.sluice-object')).length, base.length, `round ${rounds}: logs/ holds logs`);
      }
    } finally {
      await after.stop();
    }
  }
  t.comment(`${rounds} kills, ${midMove} of them in the middle of a move`);
  t.ok(midMove >= 4, `${midMove} of ${rounds} kills landed in the middle of a move`);
});
