// Running sluice: a plain `sluice serve` is one small process; --version; SLUICE_* variables that
// name no option are warned of, not fatal; every start-up failure is one line naming the problem
// and exit code 1; --log-level filters sluice's own messages and SIGHUP re-reads it.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { CLI, REPO, commandExists, createBucket, freePort, putObject, run, s3, startSluice, tempDir, waitFor, type CommandResult } from '../lib/harness';
import { childrenOf, exitOf, residentBytes } from '../lib/processes';

const MB = 1024 * 1024;
/**
 * tap puts its loader into NODE_OPTIONS of every process a test spawns: sluice would carry it (a
 * dozen MB, and a file written at exit). Measured and failed without it, as users run it.
 */
const WITHOUT_TAP = ['env', '-u', 'NODE_OPTIONS'];
const sluice = (args: string[], env?: NodeJS.ProcessEnv): Promise<CommandResult> => run(WITHOUT_TAP[0]!, [...WITHOUT_TAP.slice(1), process.execPath, ...args], env);

t.test('a plain sluice serve is one process of at most 60 MB', async (t) => {
  const root = tempDir();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  // Only what `make run` passes: no --workers.
  const args = ['--root', root, '--host', '127.0.0.1', '--port', '0'];
  const server = await startSluice({ bare: true, root, args, wrapper: WITHOUT_TAP });
  t.teardown(() => server.stop());
  await createBucket(server, 'small');
  for (let i = 0; i < 5; i++) {
    await putObject(server, 'small', `k${i}`, `value ${i}`);
    t.equal((await s3(server, 'GET', `/small/k${i}`)).status, 200);
  }
  await new Promise((r) => setTimeout(r, 500));
  const pid = server.process.pid!;
  t.same(childrenOf(pid), [], 'no worker processes: sluice is one process');
  const rss = residentBytes(pid);
  t.ok(rss <= 60 * MB, `idle resident memory ${(rss / MB).toFixed(1)} MB is at most 60 MB`);
  t.match(server.output(), /serving .* on http:\/\/127\.0\.0\.1:\d+\/api\/v1\/s3\/ \(and \/\)/);
});

t.test('--version prints the version of package.json', async (t) => {
  const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  for (const args of [['--version'], ['serve', '--version']]) {
    const result = await sluice([CLI, ...args]);
    t.equal(result.code, 0);
    t.equal(result.stdout, `${version}\n`, `sluice ${args.join(' ')}`);
  }
});

t.test('SLUICE_* variables that name no option are warned of; unknown flags are errors', async (t) => {
  const server = await startSluice({ env: { SLUICE_HOME: '/home/someone', SLUICE_REGION: 'eu-north-1' } });
  t.teardown(() => server.stop());
  t.match(server.output(), /WARNING: ignoring SLUICE_HOME: no option is called that/, 'a warning');
  t.equal((await s3(server, 'GET', '/')).status, 200, 'and the server runs');
  const flag = await sluice([CLI, 'serve', '--root', tempDir(), '--no-such-flag', '1']);
  oneLineFailure(t, flag, /^sluice: Unknown argument: no-such-flag$/);
  const none = await sluice([CLI]);
  oneLineFailure(t, none, /^sluice: Name a command: sluice serve/);
});

/** Exit code 1 and exactly one line on stderr, matching `message`, with no stack trace. */
function oneLineFailure(t: tap.Test, result: CommandResult, message: RegExp): void {
  t.equal(result.code, 1, `exit code 1 (${result.stderr.trim()})`);
  const lines = result.stderr.trimEnd().split('\n');
  t.equal(lines.length, 1, 'one line on stderr');
  t.match(lines[0], message);
  t.notMatch(result.stderr + result.stdout, /\n\s+at /, 'no stack trace');
}

const serveArgs = (root: string, ...more: string[]): string[] => [CLI, 'serve', '--root', root, '--host', '127.0.0.1', '--port', '0', ...more];

t.test('start-up errors name the problem', async (t) => {
  const base = tempDir();
  t.teardown(() => rmSync(base, { recursive: true, force: true }));

  const missingParent = join(base, 'no', 'such', 'root');
  oneLineFailure(t, await sluice(serveArgs(missingParent)), /ROOT .*no\/such\/root does not exist, nor does its parent .*no\/such: create it first/);

  const file = join(base, 'a-file');
  writeFileSync(file, 'x');
  oneLineFailure(t, await sluice(serveArgs(file)), /^sluice: ROOT .*a-file is not a directory$/);

  // A directory this user cannot write: as root, run sluice as nobody.
  const readOnly = join(base, 'read-only');
  mkdirSync(readOnly);
  chmodSync(base, 0o755);
  chmodSync(readOnly, 0o555);
  if (process.getuid?.() === 0 && !commandExists('setpriv')) {
    t.comment('skipped: running as root without setpriv, sluice cannot be run as another user');
  } else {
    const prefix = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...WITHOUT_TAP] : WITHOUT_TAP;
    const result = await run(prefix[0]!, [...prefix.slice(1), process.execPath, ...serveArgs(readOnly)]);
    oneLineFailure(t, result, /^sluice: ROOT .*read-only is not readable and writable by this user \(EACCES\)$/);
  }

  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  const inUse = new RegExp(`^sluice: port ${port} on 127\\.0\\.0\\.1 is in use \\(EADDRINUSE\\)$`);
  oneLineFailure(t, await sluice([...serveArgs(join(base, 'r1')), '--port', String(port)]), inUse);
  oneLineFailure(t, await sluice([...serveArgs(join(base, 'r2')), '--port', String(port), '--workers', '2']), inUse);
  const adminTaken = new RegExp(`^sluice: admin port ${port} on 127\\.0\\.0\\.1 is in use`);
  oneLineFailure(t, await sluice([...serveArgs(join(base, 'r3')), '--admin-port', String(port)]), adminTaken);

  // A bad value, named as the user wrote it, with what is accepted.
  const root = join(base, 'r4');
  oneLineFailure(t, await sluice([...serveArgs(root), '--port', 'abc']), /^sluice: --port: expected an integer from 0 to 65535, got "abc"$/);
  const env = { ...process.env, SLUICE_ACCESS_LOG: 'xml' };
  oneLineFailure(t, await sluice(serveArgs(root), env), /^sluice: SLUICE_ACCESS_LOG: expected one of text, json, off \(or true, false\), got "xml"$/);
  const conf = join(base, 'site.properties');
  writeFileSync(conf, 'alluxio.proxy.s3.multipart.upload.timeout=soon\n');
  oneLineFailure(
    t,
    await sluice([...serveArgs(root), '--conf', conf]),
    /^sluice: alluxio\.proxy\.s3\.multipart\.upload\.timeout \(in .*site\.properties\): invalid duration: "soon" \(expected a duration such as/,
  );
  oneLineFailure(t, await sluice([...serveArgs(root), '--tls-cert', join(base, 'none.pem'), '--tls-key', join(base, 'none.key')]), /^sluice: --tls-cert .*none\.pem cannot be read \(ENOENT\)$/);
  oneLineFailure(t, await sluice([...serveArgs(root), '--conf', join(base, 'none.properties')]), /^sluice: --conf .*none\.properties cannot be read \(ENOENT\)$/);

  // A missing ROOT whose parent exists is created, and sluice says so.
  const fresh = join(base, 'fresh');
  const server = await startSluice({ root: fresh });
  t.teardown(() => server.stop());
  t.match(server.output(), /created ROOT .*fresh \(it did not exist\)/);
  t.ok(existsSync(join(fresh, '.sluice')), 'and serves it');
});

t.test('--log-level, and SIGHUP re-reads it from --conf', async (t) => {
  // At `error`, neither the warning nor the start-up line is printed; the server serves all the same.
  const port = await freePort();
  const root = tempDir();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const quiet = spawn(process.execPath, [...serveArgs(root), '--port', String(port), '--log-level', 'error', '--access-log', 'off'], {
    env: { ...process.env, SLUICE_HOME: '/home/someone' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  quiet.stdout!.on('data', (d: Buffer) => (said += d.toString()));
  quiet.stderr!.on('data', (d: Buffer) => (said += d.toString()));
  const healthy = async (): Promise<boolean> => (await fetch(`http://127.0.0.1:${port}/-/health`).catch(() => undefined))?.status === 200;
  await waitFor(healthy, 'the quiet server', 10_000);
  quiet.kill('SIGTERM');
  t.equal((await exitOf(quiet)).code, 0);
  t.equal(said, '', `nothing printed at --log-level error (got ${JSON.stringify(said)})`);

  const conf = join(tempDir(), 'sluice.properties');
  writeFileSync(conf, 'log-level=info\n');
  const server = await startSluice({ args: ['--conf', conf] });
  t.teardown(() => server.stop());
  const pid = server.process.pid!;
  const reloads = (): number => server.output().split(`reloaded the settings (process ${pid})`).length - 1;
  server.process.kill('SIGHUP');
  await waitFor(() => reloads() === 1, 'the reload to be reported');
  writeFileSync(conf, 'log-level=error\n');
  server.process.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 500));
  server.process.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(reloads(), 1, 'after the file says error, reloads (info) are no longer reported');
  t.equal((await s3(server, 'GET', '/')).status, 200, 'SIGHUP does not stop sluice');
});
