// The typed configuration: defaults, normalization, clear errors, Alluxio property files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildConfig, readPropertiesFile, type OptionLabels } from './config';

function propertiesFile(t: tap.Test, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'alluxio-site.properties');
  writeFileSync(path, text);
  return path;
}

t.test('defaults', async (t) => {
  t.same(buildConfig({}), {
    root: './data',
    host: '127.0.0.1',
    port: 39999,
    basePath: '/api/v1/s3',
    compat: 'alluxio',
    listDirectories: true,
    permissions: { enabled: true, umask: 0o022 },
    metadataMaxSize: 2048,
    taggingRestrictions: true,
    writeType: 'CACHE_THROUGH',
    deleteType: 'ALLUXIO_AND_UFS',
    multipart: {
      timeoutMs: 600_000,
      cleanerRetryCount: 3,
      cleanerRetryDelayMs: 10_000,
      cleanerPoolSize: 1,
      keepAliveIntervalMs: 30_000,
      completePoolSize: 20,
    },
    region: 'us-east-1',
    accessLog: 'text',
    logLevel: 'info',
    fsync: false,
    auth: 'simple',
    credentials: undefined,
    tls: undefined,
    headersTimeoutMs: 60_000,
    bodyTimeoutMs: 20_000,
    workers: 1,
    shutdownTimeoutMs: 30_000,
    adminPort: undefined,
  });
});

t.test('operations: workers, the access log, the log level, shutdown and the admin port', async (t) => {
  t.equal(buildConfig({ workers: 'auto' }).workers, availableParallelism(), 'auto: one per core');
  t.equal(buildConfig({ workers: '0' }).workers, availableParallelism(), '0 still means one per core');
  t.equal(buildConfig({ workers: 4 }).workers, 4);
  t.throws(() => buildConfig({ workers: 'many' }), { message: '--workers: expected auto or an integer from 1 to 256, got "many"' });
  const formats: [string | boolean, string][] = [['json', 'json'], ['TEXT', 'text'], ['off', 'off'], ['true', 'text']];
  formats.push(['false', 'off'], [true, 'text'], [false, 'off'], ['', 'text']);
  for (const [value, format] of formats) {
    t.equal(buildConfig({ 'access-log': value }).accessLog, format, `--access-log ${JSON.stringify(value)}`);
  }
  t.throws(() => buildConfig({ 'access-log': 'xml' }), {
    message: '--access-log: expected one of text, json, off (or true, false), got "xml"',
  });
  t.equal(buildConfig({ 'log-level': 'DEBUG' }).logLevel, 'debug');
  t.throws(() => buildConfig({ 'log-level': 'loud' }), { message: '--log-level: expected one of error, warn, info, debug, got "loud"' });
  t.equal(buildConfig({ 'shutdown-timeout': '2sec' }).shutdownTimeoutMs, 2000);
  t.equal(buildConfig({ 'admin-port': '9100' }).adminPort, 9100);
  t.throws(() => buildConfig({ 'admin-port': 'x' }), /^--admin-port: expected an integer from 0 to 65535/);
});

t.test('errors name the option as it was written', async (t) => {
  t.throws(() => buildConfig({ port: 'abc' }, { port: 'SLUICE_PORT' }), {
    message: 'SLUICE_PORT: expected an integer from 0 to 65535, got "abc"',
  });
  const property = 'alluxio.proxy.s3.header.metadata.max.size (in a.properties)';
  t.throws(() => buildConfig({ 'metadata-max-size': 'lots' }, { 'metadata-max-size': property }), {
    message: `${property}: invalid size: "lots" (expected a size such as 2KB, 64MB or 0)`,
  });
  t.throws(() => buildConfig({ 'shutdown-timeout': 'soon' }), {
    message: '--shutdown-timeout: invalid duration: "soon" (expected a duration such as 500ms, 30sec or 10min)',
  });
});

t.test('the cache tier: its dir and size, and the write types that need it', async (t) => {
  t.equal(buildConfig({}).cache, undefined, 'no cache dir: no tier');
  t.same(buildConfig({ 'cache-dir': '/c' }).cache, { dir: '/c', sizeBytes: undefined }, 'sized at start from the free space');
  t.same(buildConfig({ 'cache-dir': '/c', 'cache-size': '1.5GB' }).cache, { dir: '/c', sizeBytes: 1.5 * 1024 ** 3 });
  t.throws(() => buildConfig({ 'cache-dir': '/c', 'cache-size': '0' }), /--cache-size: must be more than 0/);
  t.throws(() => buildConfig({ 'cache-dir': '/c', 'cache-size': 'lots' }), /--cache-size: invalid size/);
  for (const writeType of ['MUST_CACHE', 'ASYNC_THROUGH']) {
    t.throws(() => buildConfig({ 'write-type': writeType }), new RegExp(`--write-type ${writeType} writes to the cache tier`));
  }
  t.equal(buildConfig({ 'write-type': 'THROUGH' }).cache, undefined, 'THROUGH needs no cache');
});

t.test('--compat, and the permission options', async (t) => {
  t.equal(buildConfig({ compat: 'S3' }).compat, 's3');
  t.equal(buildConfig({ compat: 's3' }).listDirectories, false, '--compat s3 lists no dir/ entries by default');
  t.equal(buildConfig({ compat: 's3', 'list-directories': true }).listDirectories, true, 'an explicit --list-directories wins');
  t.equal(buildConfig({ compat: 'alluxio', 'list-directories': 'false' }).listDirectories, false);
  t.throws(() => buildConfig({ compat: 'minio' }), { message: '--compat: expected one of alluxio, s3, got "minio"' });
  t.same(buildConfig({ umask: '077' }).permissions, { enabled: true, umask: 0o077 });
  t.equal(buildConfig({ umask: '0002' }).permissions.umask, 0o002);
  t.equal(buildConfig({ permissions: 'off' }).permissions.enabled, false);
  for (const bad of ['22x', '8', '01777', '']) {
    t.throws(() => buildConfig({ umask: bad }), { message: `--umask: expected an octal umask such as 022 or 077, got "${bad}"` });
  }
});

t.test('auth and TLS options', async (t) => {
  t.equal(buildConfig({ auth: 'SigV4', credentials: '/etc/creds' }).auth, 'sigv4');
  t.throws(() => buildConfig({ auth: 'sigv4' }), /--auth sigv4 needs --credentials/);
  t.throws(() => buildConfig({ auth: 'kerberos' }), /--auth: expected one of simple, sigv4/);
  t.same(buildConfig({ 'tls-cert': 'c.pem', 'tls-key': 'k.pem' }).tls, { cert: 'c.pem', key: 'k.pem' });
  t.throws(() => buildConfig({ 'tls-cert': 'c.pem' }), /--tls-cert and --tls-key go together/);
});

t.test('values as strings (environment, properties) and as typed CLI values', async (t) => {
  const config = buildConfig({
    port: '8080',
    'list-directories': 'false',
    'metadata-max-size': '8KB',
    'tagging-restrictions': 'off',
    'write-type': 'must_cache',
    'delete-type': ' ALLUXIO_ONLY ',
    'cache-dir': '/mnt/ssd/sluice',
    'cache-size': '10GB',
    'multipart-timeout': '1h',
    'multipart-cleaner-retry-count': '0',
    'complete-keepalive-interval': '500ms',
    'complete-pool-size': 4,
    fsync: true,
    'access-log': 'NO',
  });
  t.equal(config.port, 8080);
  t.equal(config.listDirectories, false);
  t.equal(config.metadataMaxSize, 8192);
  t.equal(config.taggingRestrictions, false);
  t.equal(config.writeType, 'MUST_CACHE');
  t.equal(config.deleteType, 'ALLUXIO_ONLY');
  t.equal(config.multipart.timeoutMs, 3_600_000);
  t.equal(config.multipart.cleanerRetryCount, 0);
  t.equal(config.multipart.keepAliveIntervalMs, 500);
  t.equal(config.multipart.completePoolSize, 4);
  t.equal(config.fsync, true);
  t.equal(config.accessLog, 'off');
  t.equal(buildConfig({ 'metadata-max-size': '0' }).metadataMaxSize, 0, '0 means no limit');
});

t.test('base path normalization', async (t) => {
  const cases: [string, string][] = [
    ['/api/v1/s3', '/api/v1/s3'],
    ['/api/v1/s3/', '/api/v1/s3'],
    ['api/v1/s3', '/api/v1/s3'],
    ['/api/v1/s3///', '/api/v1/s3'],
    [' /s3 ', '/s3'],
    ['/', ''],
    ['', ''],
  ];
  for (const [input, expected] of cases) t.equal(buildConfig({ 'base-path': input }).basePath, expected, JSON.stringify(input));
});

t.test('bad values give errors that name the flag', async (t) => {
  const cases: [Parameters<typeof buildConfig>[0], RegExp][] = [
    [{ port: '65536' }, /^--port: expected an integer from 0 to 65535, got "65536"$/],
    [{ port: 'http' }, /^--port: .*"http"/],
    [{ port: '' }, /^--port: /],
    [{ port: '  ' }, /^--port: /],
    [{ port: '0x10' }, /^--port: /],
    [{ port: '1e3' }, /^--port: /],
    [{ port: 80.5 }, /^--port: /],
    [{ port: Number.NaN }, /^--port: /],
    [{ 'list-directories': 'maybe' }, /^--list-directories: expected true or false, got "maybe"$/],
    [{ 'metadata-max-size': '2 lots' }, /^--metadata-max-size: invalid size: "2 lots" \(expected a size such as 2KB, 64MB or 0\)$/],
    [{ 'write-type': 'FAST' }, /^--write-type: expected one of MUST_CACHE, CACHE_THROUGH, ASYNC_THROUGH, THROUGH, got "FAST"$/],
    [{ 'delete-type': 'UFS_ONLY' }, /^--delete-type: expected one of/],
    [{ 'multipart-timeout': 'soon' }, /^--multipart-timeout: invalid duration: "soon" \(expected a duration such as 500ms, 30sec/],
    [{ 'multipart-cleaner-retry-delay': '10 fortnights' }, /^--multipart-cleaner-retry-delay: /],
    [{ 'complete-keepalive-interval': '-1s' }, /^--complete-keepalive-interval: /],
    [{ 'multipart-cleaner-retry-count': '-1' }, /^--multipart-cleaner-retry-count: expected an integer from 0/],
    [{ 'multipart-cleaner-pool-size': '0' }, /^--multipart-cleaner-pool-size: expected an integer from 1/],
    [{ 'complete-pool-size': '2.5' }, /^--complete-pool-size: /],
  ];
  for (const [raw, message] of cases) t.throws(() => buildConfig(raw), { message }, JSON.stringify(raw));
});

t.test('a properties file maps Alluxio property names to options', async (t) => {
  const path = propertiesFile(
    t,
    [
      '# alluxio-site.properties',
      'alluxio.proxy.web.hostname=0.0.0.0',
      'alluxio.proxy.web.port = 40000',
      'alluxio.proxy.s3.writetype: THROUGH',
      'alluxio.proxy.s3.deletetype ALLUXIO_ONLY',
      'alluxio.proxy.s3.header.metadata.max.size=4KB',
      'alluxio.proxy.s3.tagging.restrictions.enabled=false',
      'alluxio.proxy.s3.multipart.upload.timeout=20min',
      'alluxio.proxy.s3.multipart.upload.cleaner.retry.count=5',
      'alluxio.proxy.s3.multipart.upload.cleaner.retry.delay=1sec',
      'alluxio.proxy.s3.multipart.upload.cleaner.pool.size=2',
      'alluxio.proxy.s3.complete.multipart.upload.keepalive.time.interval=15sec',
      'alluxio.proxy.s3.complete.multipart.upload.pool.size=7',
      'alluxio.proxy.s3.multipart.temporary.dir.suffix=_tmp_parts',
      'alluxio.security.authorization.permission.enabled=false',
      'alluxio.security.authorization.permission.umask=027',
      '# properties for Alluxio servers are accepted and ignored',
      'alluxio.master.hostname=master-1',
      'alluxio.user.file.writetype.default=CACHE_THROUGH',
      '# sluice options by their flag name',
      'base-path=/s3',
      '',
    ].join('\n'),
  );
  const labels: OptionLabels = {};
  const raw = readPropertiesFile(path, labels);
  t.equal(labels.port, `alluxio.proxy.web.port (in ${path})`, 'errors will name the property as written');
  t.equal(labels['base-path'], `base-path (in ${path})`);
  t.same(raw, {
    host: '0.0.0.0',
    port: '40000',
    'write-type': 'THROUGH',
    'delete-type': 'ALLUXIO_ONLY',
    'metadata-max-size': '4KB',
    'tagging-restrictions': 'false',
    'multipart-timeout': '20min',
    'multipart-cleaner-retry-count': '5',
    'multipart-cleaner-retry-delay': '1sec',
    'multipart-cleaner-pool-size': '2',
    'complete-keepalive-interval': '15sec',
    'complete-pool-size': '7',
    'multipart-tmp-suffix': '_tmp_parts',
    permissions: 'false',
    umask: '027',
    'base-path': '/s3',
  });
  const config = buildConfig(raw);
  t.equal(config.host, '0.0.0.0');
  t.equal(config.port, 40000);
  t.equal(config.writeType, 'THROUGH');
  t.equal(config.metadataMaxSize, 4096);
  t.equal(config.taggingRestrictions, false);
  t.same(config.permissions, { enabled: false, umask: 0o027 }, "Alluxio's authorization properties");
  t.same(config.multipart, {
    timeoutMs: 1_200_000,
    cleanerRetryCount: 5,
    cleanerRetryDelayMs: 1000,
    cleanerPoolSize: 2,
    keepAliveIntervalMs: 15_000,
    completePoolSize: 7,
  });
  t.notOk('tmpDirSuffix' in config.multipart, 'the suffix property is accepted and ignored: parts live under .sluice/uploads');
  t.equal(config.basePath, '/s3');
});

t.test('a properties file rejects unknown keys that are not alluxio.*', async (t) => {
  const typo = propertiesFile(t, 'alluxio.proxy.web.port=1\nproxy.web.port=2\n');
  t.throws(() => readPropertiesFile(typo), { message: `${typo}: unknown property "proxy.web.port"` });
  for (const key of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    const path = propertiesFile(t, `${key}=1\n`);
    t.throws(() => readPropertiesFile(path), { message: `${path}: unknown property "${key}"` }, `${key} is no option`);
  }
});

t.test('a properties file with a syntax error names the file', async (t) => {
  const path = propertiesFile(t, 'a=1\nalluxio.proxy.s3.multipart.temporary.dir.suffix=\\u12\n');
  t.throws(() => readPropertiesFile(path), { message: `${path}: line 2: malformed \\uxxxx escape` });
});

t.test('a missing properties file is an error', async (t) => {
  t.throws(() => readPropertiesFile(join(tmpdir(), 'sluice-no-such-file.properties')), { code: 'ENOENT' });
});
