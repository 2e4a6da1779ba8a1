// The command line and identity end to end: --help documents every option, a --conf file with
// Alluxio property names, SLUICE_* variables and flags (in that order of strength), the access
// log, the base path, and SIMPLE identity (the documented literal header acts as its user, no
// header as the process user).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { OPTIONS } from '../../source/config/config';
import { CLI, aws, createBucket, errorCode, freePort, putObject, rawRequest, run, s3, startSluice, tempDir, xmlValue, xmlValues } from '../lib/harness';

t.test('--help documents every option and its Alluxio property', async (t) => {
  const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '80' } });
  t.equal(help.status, 0);
  for (const [name, option] of Object.entries(OPTIONS)) {
    t.match(help.stdout, `--${name}`, `--${name} is documented`);
    if (option.alluxio) t.match(help.stdout, option.alluxio, `${option.alluxio} is named whole`);
    t.match(help.stdout, `[default: ${typeof option.default === 'string' ? `"${option.default}"` : String(option.default)}]`, `--${name} shows its default`);
  }
  t.match(help.stdout, '--conf', '--conf is documented');
  const top = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  t.match(top.stdout, /sluice serve/, 'the top-level help names the serve command');
  const unknown = spawnSync(process.execPath, [CLI, 'serve', '--no-such-option', '1'], { encoding: 'utf8' });
  t.not(unknown.status, 0, 'an unknown option is an error');
  const badPort = spawnSync(process.execPath, [CLI, 'serve', '--root', tempDir(), '--port', 'abc'], { encoding: 'utf8' });
  t.not(badPort.status, 0, 'a bad port is an error');
  t.match(badPort.stderr, /port/);
});

t.test('--conf with Alluxio property names, SLUICE_* variables, flags', async (t) => {
  const port = await freePort();
  const conf = join(tempDir(), 'alluxio-site.properties');
  writeFileSync(
    conf,
    [
      '# an alluxio-site.properties',
      'alluxio.proxy.web.hostname=127.0.0.1',
      `alluxio.proxy.web.port=${port}`,
      'alluxio.proxy.s3.header.metadata.max.size=1KB',
      'alluxio.proxy.s3.tagging.restrictions.enabled=false',
      'alluxio.proxy.s3.multipart.upload.timeout=10min',
      'alluxio.master.hostname=ignored-by-sluice',
      '',
    ].join('\n'),
  );
  const root = tempDir();
  const server = await startSluice({ bare: true, args: ['--conf', conf], env: { SLUICE_ROOT: root } });
  t.teardown(() => server.stop());
  t.equal(server.port, port, 'alluxio.proxy.web.port sets the port');
  await createBucket(server, 'conf');
  const big = await s3(server, 'PUT', '/conf/big', { body: 'x', headers: { 'x-amz-meta-k': 'v'.repeat(1100) } });
  t.equal(errorCode(big), 'MetadataTooLarge', 'alluxio.proxy.s3.header.metadata.max.size=1KB applies');
  const tags = Array.from({ length: 12 }, (_, i) => `k${i}=v`).join('&');
  t.equal((await s3(server, 'PUT', '/conf/tagged', { body: 'x', headers: { 'x-amz-tagging': tags } })).status, 200, 'alluxio.proxy.s3.tagging.restrictions.enabled=false applies');
  t.ok(spawnSync('test', ['-d', join(root, 'conf')]).status === 0, 'SLUICE_ROOT names the root');

  // The environment overrides the file, a flag overrides both.
  const envServer = await startSluice({ bare: true, args: ['--conf', conf, '--port', '0', '--list-directories=false'], env: { SLUICE_ROOT: tempDir(), SLUICE_METADATA_MAX_SIZE: '3KB', SLUICE_LIST_DIRECTORIES: 'true', SLUICE_REGION: 'eu-west-1' } });
  t.teardown(() => envServer.stop());
  t.not(envServer.port, port, '--port overrides the file');
  await createBucket(envServer, 'envs');
  t.equal((await s3(envServer, 'PUT', '/envs/big', { body: 'x', headers: { 'x-amz-meta-k': 'v'.repeat(2500) } })).status, 200, 'SLUICE_METADATA_MAX_SIZE overrides the file');
  t.equal(errorCode(await s3(envServer, 'PUT', '/envs/bigger', { body: 'x', headers: { 'x-amz-meta-k': 'v'.repeat(3100) } })), 'MetadataTooLarge');
  await putObject(envServer, 'envs', 'dir/file', 'x');
  t.same(xmlValues((await s3(envServer, 'GET', '/envs?list-type=2')).text, 'Key'), ['big', 'dir/file'], 'the flag --list-directories=false beats SLUICE_LIST_DIRECTORIES');
  t.match((await s3(envServer, 'GET', '/envs?location')).text, /eu-west-1/, 'SLUICE_REGION sets the region');

  const typo = join(tempDir(), 'typo.properties');
  writeFileSync(typo, 'not.a.sluice.property=1\n');
  const refused = await run(process.execPath, [CLI, 'serve', '--conf', typo, '--root', tempDir(), '--port', '0']);
  t.not(refused.code, 0, 'an unknown property is an error');
  t.match(refused.stderr, /not\.a\.sluice\.property/, 'naming the property');
  const badValue = join(tempDir(), 'bad.properties');
  writeFileSync(badValue, 'alluxio.proxy.s3.header.metadata.max.size=lots\n');
  const refusedValue = await run(process.execPath, [CLI, 'serve', '--conf', badValue, '--root', tempDir(), '--port', '0']);
  t.not(refusedValue.code, 0, 'a bad size is an error');
  t.match(refusedValue.stderr, /metadata-max-size|lots/);
});

t.test('the access log, the base path and a clean stop', async (t) => {
  const server = await startSluice({ args: ['--base-path', '/s3'] });
  t.teardown(() => server.stop());
  t.equal((await s3(server, 'PUT', '/s3/logged')).status, 200, 'served under --base-path');
  const put = await s3(server, 'PUT', '/s3/logged/some/key.txt', { body: 'twelve bytes' });
  t.equal(put.status, 200);
  const get = await s3(server, 'GET', '/logged/some/key.txt', { user: 'reader' });
  t.equal(get.text, 'twelve bytes', 'and at /');
  const missing = await s3(server, 'GET', '/logged/nope');
  const id = (r: { headers: Record<string, unknown> }): string => String(r.headers['x-amz-request-id']);
  await new Promise((r) => setTimeout(r, 100));
  const lines = server.output().split('\n');
  const lineOf = (requestId: string): string => lines.find((l) => l.includes(requestId)) ?? '';
  t.match(lineOf(id(put)), /PUT \/s3\/logged\/some\/key\.txt 200 \S+ [\d.]+ms [0-9A-F]{16} testuser/, 'method, path, status, bytes, ms, request id, user');
  t.match(lineOf(id(get)), /GET \/logged\/some\/key\.txt 200 12 [\d.]+ms [0-9A-F]{16} reader/, 'the bytes sent and the user');
  t.match(lineOf(id(missing)), /GET \/logged\/nope 404 \d+ [\d.]+ms/, 'failures are logged too');

  const quiet = await startSluice({ args: ['--access-log=false'] });
  t.teardown(() => quiet.stop());
  const res = await s3(quiet, 'GET', '/');
  await new Promise((r) => setTimeout(r, 100));
  t.notMatch(quiet.output(), id(res), '--access-log=false prints no request lines');

  const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code) => resolve(code)));
  server.process.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM stops the server cleanly');
});

t.test('SIMPLE identity: the documented header, presigned credentials, no header', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  const processUser = userInfo().username;

  // Exactly the header the Alluxio documentation shows.
  const literal = { Authorization: 'AWS4-HMAC-SHA256 Credential=testuser/... SignedHeaders=... Signature=...' };
  t.equal((await rawRequest(server, 'PUT', '/api/v1/s3/testbucket', { headers: literal })).status, 200);
  t.equal((await rawRequest(server, 'PUT', '/api/v1/s3/testbucket/test.txt', { headers: literal, body: 'hello' })).status, 200);
  const mine = await rawRequest(server, 'GET', '/api/v1/s3/', { headers: literal });
  t.equal(xmlValue(mine.text, 'DisplayName'), 'testuser', 'the header acts as testuser');
  t.same(xmlValues(mine.text, 'Name'), ['testbucket']);
  const owned = await rawRequest(server, 'GET', '/api/v1/s3/testbucket?list-type=2&fetch-owner=true', { headers: literal });
  t.match(owned.text, /<Key>test\.txt<\/Key>.*<Owner><ID>testuser<\/ID><DisplayName>testuser<\/DisplayName><\/Owner>/, 'testuser owns what it wrote');
  const acl = await rawRequest(server, 'GET', '/api/v1/s3/testbucket?acl', { headers: literal });
  t.match(acl.text, /<Owner><ID>testuser<\/ID>/, 'and the bucket');

  const anonymous = await rawRequest(server, 'GET', '/api/v1/s3/');
  t.equal(xmlValue(anonymous.text, 'DisplayName'), processUser, 'no header: the user that runs the process');
  t.same(xmlValues(anonymous.text, 'Name'), [], "who owns none of testuser's buckets");
  await rawRequest(server, 'PUT', '/procbucket');
  t.same(xmlValues((await rawRequest(server, 'GET', '/')).text, 'Name'), ['procbucket']);

  const presigned = await rawRequest(server, 'GET', `/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent('testuser/20240101/us-east-1/s3/aws4_request')}&X-Amz-Signature=abc`);
  t.same(xmlValues(presigned.text, 'Name'), ['testbucket'], "a presigned URL's X-Amz-Credential names the user");

  // The aws cli with the access key set to a user name.
  const cli = await aws(server, ['s3api', 'list-buckets'], 'testuser');
  t.match(cli.stdout, /"DisplayName": "testuser"/);
  t.match(cli.stdout, /testbucket/);
  const presignedUrl = await aws(server, ['s3', 'presign', 's3://testbucket/test.txt']);
  t.equal(presignedUrl.code, 0, presignedUrl.stderr);
  const fetched = await run('curl', ['-s', presignedUrl.stdout.trim()]);
  t.equal(fetched.stdout, 'hello', 'a presigned GET from the aws cli works with curl');
});
