// `make test` runs the whole transcript replay: one assertion per documented example.
import t from 'tap';
import { failureDetail } from './lib/replay-report';
import { replayAll } from './replay';

t.test('every documented transcript replays against sluice', async (t) => {
  const lines: string[] = [];
  const report = await replayAll({ log: (line) => lines.push(line) });
  t.ok(report.results.length >= 30, `all transcripts ran (${report.results.length})`);
  for (const result of [...report.results].sort((a, b) => a.transcript.name.localeCompare(b.transcript.name))) {
    t.ok(result.passed, `${result.transcript.name}: ${result.transcript.title}`, result.passed ? {} : { detail: failureDetail(result).join('\n') });
  }
  t.comment(lines.filter((l) => !l.startsWith('     ')).join('\n'));
});
