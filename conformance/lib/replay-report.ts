// What the replay prints: one line per transcript, and for a failure the command, then what the
// transcript expects and what came back, side by side, then the differences one by one.
import { relative } from 'node:path';
import { REPO } from './harness';
import type { TranscriptResult } from './replay-run';

const LEFT = 64;
const RIGHT = 64;
const MAX_ROWS = 60;

function clip(text: string, width: number): string {
  const flat = text.replace(/\t/g, '  ');
  return flat.length <= width ? flat.padEnd(width) : `${flat.slice(0, width - 1)}…`;
}

export function sideBySide(left: string[], right: string[], leftTitle: string, rightTitle: string): string[] {
  const rows = Math.max(left.length, right.length);
  const out = [`${clip(leftTitle, LEFT)} │ ${rightTitle}`, `${'─'.repeat(LEFT)}─┼─${'─'.repeat(RIGHT)}`];
  for (let i = 0; i < Math.min(rows, MAX_ROWS); i++) out.push(`${clip(left[i] ?? '', LEFT)} │ ${clip(right[i] ?? '', RIGHT).trimEnd()}`);
  if (rows > MAX_ROWS) out.push(`… ${rows - MAX_ROWS} more line(s)`);
  return out;
}

export function summaryLine(result: TranscriptResult): string {
  const { transcript } = result;
  const verdict = result.passed ? 'ok  ' : 'FAIL';
  const detail = result.error !== undefined ? 'not run' : `${result.commands} command${result.commands === 1 ? '' : 's'}, ${(result.ms / 1000).toFixed(1)} s`;
  return `${verdict} ${transcript.name.padEnd(36)} ${transcript.title} (${detail})`;
}

/** The detail under a FAIL line (empty for a pass). */
export function failureDetail(result: TranscriptResult): string[] {
  const lines: string[] = [];
  const indent = (l: string): string => `     ${l}`;
  if (result.error !== undefined) lines.push(indent(result.error));
  const failure = result.failure;
  if (failure) {
    const { step } = failure;
    lines.push(indent(`at ${relative(REPO, result.transcript.file)}:${step.line} (${step.section})`));
    lines.push(indent(`$ ${step.command}`));
    lines.push(indent(`  ran: ${failure.ran}`));
    const expected = step.expected.length > 0 ? step.expected.map((l) => (l.annotation !== undefined ? `${l.text}  ## ${l.annotation}` : l.text)) : [step.section === 'setup' ? '(success)' : '(no output)'];
    const actual = failure.shown.replace(/\n$/, '').split('\n');
    lines.push(...sideBySide(expected, actual, 'expected (transcript)', 'actual (renamed names mapped back)').map(indent));
    lines.push(indent('differences:'));
    for (const d of failure.differences) lines.push(indent(`  ${d.path}: expected ${d.expected}; actual ${d.actual}`));
  }
  for (const warning of result.warnings) lines.push(indent(`warning: ${warning}`));
  return lines;
}
