// The top self-time functions of a V8 CPU profile (`node --cpu-prof`): what to look at first when a
// target is missed. `node dist/tools/bench/profile-top.js FILE.cpuprofile [N]`.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of the time the process was not idle. */
  percent: number;
}

function where(frame: CallFrame): string {
  if (frame.url === '') return '';
  const path = frame.url.startsWith('file://') ? frame.url.slice(7) : frame.url;
  const shown = path.startsWith('/') ? relative(process.cwd(), path) : path;
  return `${shown}:${frame.lineNumber + 1}`;
}

export function topSelfTime(profile: CpuProfile, count: number): { top: SelfTime[]; busyMs: number; idleMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, SelfTime>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    // A sample's time is the delta to the next sample.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(id);
    if (node === undefined) return;
    const name = node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName;
    if (name === '(idle)') {
      idle += us;
      return;
    }
    busy += us;
    const key = `${name} ${where(node.callFrame)}`;
    const entry = totals.get(key) ?? { name, where: where(node.callFrame), ms: 0, percent: 0 };
    entry.ms += us / 1000;
    totals.set(key, entry);
  });
  const top = [...totals.values()].sort((a, b) => b.ms - a.ms).slice(0, count);
  for (const t of top) t.percent = busy === 0 ? 0 : (100 * t.ms * 1000) / busy;
  return { top, busyMs: busy / 1000, idleMs: idle / 1000 };
}

if (require.main === module) {
  const [file, n = '10'] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node profile-top.js FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  const { top, busyMs, idleMs } = topSelfTime(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(n));
  process.stdout.write(`${file}: busy ${busyMs.toFixed(0)} ms, idle ${idleMs.toFixed(0)} ms\n`);
  process.stdout.write('  self ms   % busy  function  (where)\n');
  for (const t of top) {
    process.stdout.write(`${t.ms.toFixed(0).padStart(8)}  ${t.percent.toFixed(1).padStart(6)}%  ${t.name}${t.where === '' ? '' : `  (${t.where})`}\n`);
  }
}
