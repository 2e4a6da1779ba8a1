// The command line and the environment as sluice reads them without yargs: flag forms, unknown
// flags refused, unknown SLUICE_* variables set apart (warned of), and which source wins.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { UsageError, environmentOptions, parseArguments, resolveOptions } from './arguments';

t.test('flag forms', async (t) => {
  const argv = ['--root', '/srv', '--port=8080', '--fsync', '--list-directories', 'false', '--no-tagging-restrictions', '--access-log'];
  const parsed = parseArguments(['serve', ...argv, '--host', '0.0.0.0']);
  t.equal(parsed.command, 'serve');
  t.same(parsed.flags, {
    root: '/srv',
    port: '8080',
    fsync: true,
    'list-directories': 'false',
    'tagging-restrictions': false,
    'access-log': '',
    host: '0.0.0.0',
  });
  t.same(parseArguments(['serve', '--listDirectories=false']).flags, { 'list-directories': 'false' }, 'camelCase, as yargs read it');
  const bare = parseArguments(['serve', '--fsync', '--region', 'x']).flags;
  t.same(bare, { fsync: true, region: 'x' }, 'a bare boolean does not swallow the next flag');
  t.same(parseArguments(['serve', '--base-path=']).flags, { 'base-path': '' });
  t.equal(parseArguments(['serve', '--conf', 'a.properties']).conf, 'a.properties');
  t.ok(parseArguments(['--version']).version);
  t.ok(parseArguments(['serve', '-h']).help);
});

t.test('mistakes are UsageErrors that name the argument', async (t) => {
  t.throws(() => parseArguments(['serve', '--no-such-option', '1']), new UsageError('Unknown argument: no-such-option'));
  t.throws(() => parseArguments(['serve', 'extra']), new UsageError('Unknown argument: extra'));
  t.throws(() => parseArguments(['serve', '-x']), new UsageError('Unknown argument: -x'));
  t.throws(() => parseArguments(['serve', '--conf']), new UsageError('--conf needs a file'));
});

t.test('SLUICE_* variables: options, and the ones that name none', async (t) => {
  const env = { SLUICE_ROOT: '/data', SLUICE_LIST_DIRECTORIES: 'false', SLUICE_HOME: '/home/me', SLUICE_X: '1', PATH: '/bin' };
  const found = environmentOptions(env);
  t.same(found.values, { root: '/data', 'list-directories': 'false' });
  t.same(found.labels, { root: 'SLUICE_ROOT', 'list-directories': 'SLUICE_LIST_DIRECTORIES' });
  t.same(found.unknown, ['SLUICE_HOME', 'SLUICE_X'], 'not an error: warned of by the caller');
});

t.test('flags over variables over the --conf file, each labelled as written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-args-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'site.properties');
  writeFileSync(conf, 'alluxio.proxy.web.port=1\nalluxio.proxy.web.hostname=file-host\nregion=file-region\n');
  const env = { SLUICE_PORT: '2', SLUICE_REGION: 'env-region' };
  const { raw, labels } = resolveOptions(parseArguments(['serve', '--conf', conf, '--port', '3']), env);
  t.same(raw, { port: '3', host: 'file-host', region: 'env-region' });
  t.same(labels, { port: '--port', host: `alluxio.proxy.web.hostname (in ${conf})`, region: 'SLUICE_REGION' });
  const fromEnv = resolveOptions(parseArguments(['serve']), { SLUICE_CONF: conf });
  t.equal(fromEnv.raw.port, '1', 'SLUICE_CONF names the file too');
  t.throws(() => resolveOptions(parseArguments(['serve', '--conf', join(dir, 'none')]), {}), /--conf .*none cannot be read \(ENOENT\)/);
});
