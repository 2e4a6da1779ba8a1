// The transcript replay once more for a write type, with a cache tier: the documented behaviour
// holds whichever tiers a write reaches. conformance/replay-tiers/ runs it per write type, as
// separate files so that `make test` runs them side by side.
import { rmSync } from 'node:fs';
import t from 'tap';
import { replayAll } from '../replay';
import { tempDir } from './harness';
import { failureDetail } from './replay-report';

export function replayWithWriteType(writeType: string): void {
  t.test(`every documented transcript replays with --write-type ${writeType}`, async (t) => {
    const cacheDir = tempDir('sluice-cache-');
    t.teardown(() => rmSync(cacheDir, { recursive: true, force: true }));
    const serverArgs = ['--cache-dir', cacheDir, '--cache-size', '256MB', '--write-type', writeType];
    const report = await replayAll({ log: () => undefined, serverArgs });
    t.ok(report.results.length >= 30, `all transcripts ran (${report.results.length})`);
    for (const result of report.results.filter((r) => !r.passed)) {
      t.fail(`${result.transcript.name}: ${result.transcript.title}`, { detail: failureDetail(result).join('\n') });
    }
    t.equal(report.failed, 0, `${report.passed} passed`);
  });
}
