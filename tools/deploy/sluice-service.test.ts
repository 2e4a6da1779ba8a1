// tools/deploy/sluice.service: systemd accepts it (systemd-analyze verify and security, where
// installed), it keeps its sandbox, and the command and settings it gives run a sluice that
// ExecReload reloads and KillSignal stops cleanly.
import { once } from 'node:events';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI, REPO, boto3, commandExists, freePort, run, s3, startSluice, tempDir, waitFor } from '../../conformance/lib/harness';

const UNIT = join(REPO, 'tools', 'deploy', 'sluice.service');

/** The unit's `Key=value` settings in order (Environment= repeats), comments left out. */
function settings(text: string): [string, string][] {
  return text
    .split('\n')
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line): [string, string] => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]);
}

const unit = settings(readFileSync(UNIT, 'utf8'));
const setting = (key: string): string | undefined => unit.find(([k]) => k === key)?.[1];
/** The SLUICE_* variables of its Environment= lines. */
const environment = Object.fromEntries(unit.filter(([k]) => k === 'Environment').map(([, v]) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]));
const execStart = (setting('ExecStart') ?? '').split(/\s+/);

const analyze = commandExists('systemd-analyze') ? false : 'systemd-analyze is not installed here (apt-get install -y systemd to check the unit)';

t.test('systemd-analyze verify accepts the unit without a warning, and security rates its sandbox', { skip: analyze }, async (t) => {
  const dir = tempDir('sluice-unit-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'sluice.service');
  copyFileSync(UNIT, copy);
  // verify checks that ExecStart's program exists: where Node is not /usr/bin/node, the copy
  // names this Node instead (nothing else changes).
  if (!existsSync(execStart[0]!)) writeFileSync(copy, readFileSync(UNIT, 'utf8').replace(`ExecStart=${execStart[0]}`, `ExecStart=${process.execPath}`));
  const result = await run('systemd-analyze', ['verify', copy]);
  t.equal(result.code, 0, `systemd-analyze verify: ${result.stderr}`);
  // Settings it does not understand are only warnings ("Unknown key ..., ignoring"), exit 0.
  const aboutUnit = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.includes('sluice.service'));
  t.same(aboutUnit, [], 'nothing to say about the unit');
  const security = await run('systemd-analyze', ['security', '--offline=yes', copy]);
  const level = /Overall exposure level for sluice\.service: ([\d.]+)/.exec(security.stdout)?.[1];
  if (level === undefined) t.comment(`no offline systemd-analyze security here (systemd 250 and later): ${security.stderr.trim()}`);
  else t.ok(Number(level) <= 2, `systemd-analyze security rates the sandbox's exposure ${level} (0 is the least, 10 the most)`);
});

t.test('the unit runs the built CLI as a dedicated user inside a sandbox', async (t) => {
  t.equal(setting('User'), 'sluice', 'a dedicated user');
  t.same(execStart.slice(-2), [join('/opt/sluice', CLI.slice(REPO.length + 1)), 'serve'], 'ExecStart runs the CLI this build makes');
  t.ok(existsSync(CLI), `${CLI} is what make builds`);
  const expected: Record<string, string> = {
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    NoNewPrivileges: 'yes',
    Restart: 'on-failure',
    KillSignal: 'SIGTERM',
    ExecReload: '/bin/kill -HUP $MAINPID',
    LimitNOFILE: '65536',
  };
  for (const [key, value] of Object.entries(expected)) t.equal(setting(key), value, `${key}=${value}`);
  t.same((setting('RestrictAddressFamilies') ?? '').split(/\s+/).sort(), ['AF_INET', 'AF_INET6', 'AF_UNIX'], 'IP and Unix sockets only');
  t.equal(setting('ReadWritePaths'), environment.SLUICE_ROOT, 'the root it serves is the one place it may write');
  t.equal(setting('RequiresMountsFor'), environment.SLUICE_ROOT, 'and the mount it waits for');
  t.equal(setting('MemoryDenyWriteExecute'), undefined, 'no MemoryDenyWriteExecute, which V8 cannot run under');
  t.ok(Number(setting('TimeoutStopSec')) > 30, 'systemd waits longer than sluice drains (--shutdown-timeout 30sec) before it kills');
});

t.test("the unit's settings start a sluice that ExecReload reloads and KillSignal stops cleanly", async (t) => {
  const dir = tempDir('sluice-unit-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const credentials = join(dir, 'credentials');
  writeFileSync(credentials, 'AKOLD old-secret old\n');
  // What ships, but for the paths and port of this machine; one process, so SIGHUP lands on it.
  const root = join(dir, 'root');
  const env = { ...environment, SLUICE_ROOT: root, SLUICE_PORT: String(await freePort()), SLUICE_CREDENTIALS: credentials, SLUICE_WORKERS: '1' };
  const given = ['SLUICE_AUTH', 'SLUICE_CREDENTIALS', 'SLUICE_HOST', 'SLUICE_PORT', 'SLUICE_ROOT', 'SLUICE_WORKERS'];
  t.same(Object.keys(environment).sort(), given, 'the settings the unit gives');
  const server = await startSluice({ bare: true, env, args: execStart.slice(execStart.indexOf('serve') + 1) });
  t.teardown(() => server.stop());
  t.match(server.output(), `serving ${root} on http://${environment.SLUICE_HOST}:`, 'SLUICE_ROOT and SLUICE_HOST are read');
  t.equal((await s3(server, 'GET', '/', { user: null })).status, 403, 'SLUICE_AUTH=sigv4: an unsigned request is refused');

  const listBuckets = "print(json.dumps(s3.list_buckets()['ResponseMetadata']['HTTPStatusCode']))";
  t.not((await boto3(server, listBuckets)).code, 0, 'a key not yet in the credentials file is refused');
  writeFileSync(credentials, 'AKOLD old-secret old\ntestuser dummy-secret testuser\n');
  const reload = setting('ExecReload')!.replace('$MAINPID', String(server.process.pid)).split(' ');
  t.equal((await run(reload[0]!, reload.slice(1))).code, 0, 'ExecReload, as the unit writes it');
  await waitFor(() => /reloaded/.test(server.output()), 'the reload');
  const after = await boto3(server, listBuckets);
  t.equal(after.stdout.trim(), '200', `the new key works after the reload: ${after.stderr}`);

  const exited = once(server.process, 'exit') as Promise<[number | null, string | null]>;
  server.process.kill(setting('KillSignal') as NodeJS.Signals);
  const [code] = await exited;
  t.equal(code, 0, 'KillSignal stops it with exit 0 (systemd does not count that as a failure to restart from)');
});
