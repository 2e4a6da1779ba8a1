// --fsync: the file and its directory are fsynced before a write is acknowledged (seen with strace).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { commandExists, s3, tempDir, xmlValue } from '../lib/harness';
import { startWrapped } from './lib';

t.test('fsync before acknowledging', { skip: commandExists('strace') ? false : 'strace is not installed (apt-get install -y strace)' }, async (t) => {
  for (const durable of [true, false]) {
    const dir = tempDir('sluice-fsync-');
    const log = join(dir, 'strace.log');
    const server = await startWrapped(join(dir, 'root'), ['strace', '-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', log], durable ? ['--fsync'] : []);
    t.teardown(() => server.stop());
    t.equal((await s3(server, 'PUT', '/durable')).status, 200);
    const before = readFileSync(log, 'utf8').split('\n').filter((l) => /fsync|fdatasync/.test(l)).length;
    t.equal((await s3(server, 'PUT', '/durable/a/b', { body: 'kept safe' })).status, 200);
    const created = await s3(server, 'POST', '/durable/mp?uploads');
    const id = xmlValue(created.text, 'UploadId')!;
    t.equal((await s3(server, 'PUT', `/durable/mp?partNumber=1&uploadId=${id}`, { body: 'part' })).status, 200);
    const syncs = readFileSync(log, 'utf8').split('\n').filter((l) => /fsync|fdatasync/.test(l)).length - before;
    if (durable) t.ok(syncs >= 3, `with --fsync the PUT synced its file and directory, and the part its file (${syncs} fsync calls)`);
    else t.equal(syncs, 0, 'without --fsync nothing is synced');
    await server.stop();
  }
});
