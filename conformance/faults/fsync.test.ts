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
    const fsyncs = (): number => readFileSync(log, 'utf8').split('\n').filter((l) => /fsync|fdatasync/.test(l)).length;
    t.equal((await s3(server, 'PUT', '/durable')).status, 200);
    const before = fsyncs();
    t.equal((await s3(server, 'PUT', '/durable/a/b', { body: 'kept safe' })).status, 200);
    const created = await s3(server, 'POST', '/durable/mp?uploads');
    const id = xmlValue(created.text, 'UploadId')!;
    t.equal((await s3(server, 'PUT', `/durable/mp?partNumber=1&uploadId=${id}`, { body: 'part' })).status, 200);
    const syncs = fsyncs() - before;
    if (durable) t.ok(syncs >= 3, `with --fsync the PUT synced its file and directory, and the part its file (${syncs} fsync calls)`);
    else t.equal(syncs, 0, 'without --fsync nothing is synced');
    // A key below an object moves the object into a directory of its name: with --fsync, on disk step by step.
    const beforeNest = fsyncs();
    t.equal((await s3(server, 'PUT', '/durable/a/b/c', { body: 'below' })).status, 200);
    t.equal((await s3(server, 'GET', '/durable/a/b')).text, 'kept safe');
    const nestSyncs = fsyncs() - beforeNest;
    if (durable) t.ok(nestSyncs >= 6, `the move's sequence, its renames and the new key synced (${nestSyncs} fsync calls)`);
    else t.equal(nestSyncs, 0, 'without --fsync the move syncs nothing');
    await server.stop();
  }
});
