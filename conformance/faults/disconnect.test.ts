// A client that hangs up in the middle of a PUT or an UploadPart leaves no object, no part, no
// temp file, and the previous version intact.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { s3, startSluice, waitFor, xmlValue, xmlValues } from '../lib/harness';
import { startPartialPut, sleep } from './lib';

t.test('disconnects mid-PUT and mid-UploadPart', async (t) => {
  const server = await startSluice({ args: ['--access-log=false'] });
  t.teardown(() => server.stop());
  t.equal((await s3(server, 'PUT', '/faults', { user: 'faults' })).status, 200);
  t.equal((await s3(server, 'PUT', '/faults/kept', { user: 'faults', body: 'the previous version' })).status, 200);
  const tmp = join(server.root, '.sluice', 'tmp');

  for (const key of ['kept', 'new', 'deep/new/key']) {
    const socket = await startPartialPut(server, `/faults/${key}`, 4 << 20, 1 << 20);
    await sleep(100);
    socket.destroy();
  }
  await waitFor(() => readdirSync(tmp).length === 0, 'temp files to go');
  t.equal(readFileSync(join(server.root, 'faults', 'kept'), 'utf8'), 'the previous version', 'the previous version is intact');
  t.equal((await s3(server, 'GET', '/faults/kept', { user: 'faults' })).text, 'the previous version');
  t.equal((await s3(server, 'HEAD', '/faults/new', { user: 'faults' })).status, 404, 'no object from an aborted first write');
  // The parents made for the aborted key go once its failure is handled, a moment after the hang-up.
  const keys = async (): Promise<string[]> => xmlValues((await s3(server, 'GET', '/faults?list-type=2', { user: 'faults' })).text, 'Key');
  await waitFor(async () => (await keys()).length === 1, 'the aborted key\'s parents to go').catch(() => undefined);
  t.same(await keys(), ['kept'], 'nothing else appeared, not even the parents of the aborted key');

  const created = await s3(server, 'POST', '/faults/mp?uploads', { user: 'faults' });
  const uploadId = xmlValue(created.text, 'UploadId')!;
  t.equal((await s3(server, 'PUT', `/faults/mp?partNumber=1&uploadId=${uploadId}`, { user: 'faults', body: 'part one' })).status, 200);
  const socket = await startPartialPut(server, `/faults/mp?partNumber=2&uploadId=${uploadId}`, 4 << 20, 1 << 20);
  await sleep(100);
  socket.destroy();
  await waitFor(() => readdirSync(tmp).length === 0, 'temp files to go');
  const parts = await s3(server, 'GET', `/faults/mp?uploadId=${uploadId}`, { user: 'faults' });
  t.same(xmlValues(parts.text, 'PartNumber'), ['1'], 'the interrupted part is not part of the upload');
  t.equal((await s3(server, 'GET', '/', { user: 'faults' })).status, 200, 'the server still serves');
});
