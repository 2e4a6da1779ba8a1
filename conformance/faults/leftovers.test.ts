// What crashes leave behind is removed: temp files and staging folders of a CreateMultipartUpload
// of dead processes (at start, and while sluice runs), and the metadata records of replaced
// versions whose retirement a kill -9 interrupted.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createBucket, putObject, rawRequest, s3, startSluice, tempDir, waitFor } from '../lib/harness';
import { leftoversOfADeadProcess } from '../lib/processes';

/** Every metadata record file under ROOT/.sluice/meta. */
function records(root: string): string[] {
  const meta = join(root, '.sluice', 'meta');
  return readdirSync(meta).flatMap((dir) => readdirSync(join(meta, dir)).map((name) => `${dir}/${name}`)).sort();
}

t.test('temp files and staging folders of dead processes: swept at start and while running', async (t) => {
  const root = tempDir();
  const first = await startSluice({ root });
  await first.stop();
  const tmp = join(root, '.sluice', 'tmp');
  const before = leftoversOfADeadProcess(root);
  t.same(readdirSync(tmp).sort(), [...before].sort(), 'a dead process left a temp file and a staging folder');
  const server = await startSluice({ root });
  t.teardown(() => server.stop());
  t.same(readdirSync(tmp), [], 'both are gone once sluice has started');

  const during = leftoversOfADeadProcess(root);
  t.equal(readdirSync(tmp).length, 2, 'another crash leaves its own while sluice runs');
  await waitFor(() => readdirSync(tmp).length === 0, 'the periodic sweep', 15_000);
  t.ok(during.every((name) => !existsSync(join(tmp, name))), 'swept while running, without a restart');
  const metrics = (await rawRequest(server, 'GET', '/-/metrics')).text;
  t.match(metrics, /^sluice_temp_files_swept_total [2-9]$/m, 'and counted');
});

t.test('kill -9 within the retire window: the replaced version\'s record is still removed', async (t) => {
  const root = tempDir();
  const first = await startSluice({ root });
  t.teardown(() => first.stop());
  await createBucket(first, 'retire');
  await putObject(first, 'retire', 'k', 'version one', { 'x-amz-meta-v': '1' });
  const [v1] = records(root);
  t.ok(v1, 'the first version has its record');
  await putObject(first, 'retire', 'k', 'version two', { 'x-amz-meta-v': '2', 'Content-Type': 'text/x-two' });
  t.equal(records(root).length, 2, 'both records, for a moment: a reader of version one still finds its own');
  const lists = readdirSync(join(root, '.sluice', 'retire'));
  t.equal(lists.length, 1, 'the retirement is written down');
  t.match(readFileSync(join(root, '.sluice', 'retire', lists[0]!), 'utf8'), v1!, 'naming the record');
  first.process.kill('SIGKILL'); // well within the 5 s window
  await first.stop();
  t.ok(records(root).includes(v1!), 'the crash came before the retirement');

  const second = await startSluice({ root });
  t.teardown(() => second.stop());
  await waitFor(() => !records(root).includes(v1!), 'the record of version one to go', 10_000);
  t.equal(records(root).length, 1, 'only the current version\'s record is left');
  t.same(readdirSync(join(root, '.sluice', 'retire')), [], 'and the retire list is done');
  const res = await s3(second, 'GET', '/retire/k');
  t.equal(res.text, 'version two');
  t.equal(res.headers['x-amz-meta-v'], '2', 'with its own metadata');
  t.equal(res.headers['content-type'], 'text/x-two');
});
