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
  children?: number[];
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
  /** The nearest callers in the project's own code (a path with /source/), heaviest first. */
  callers: { where: string; ms: number }[];
}

function where(frame: CallFrame): string {
  if (frame.url === '') return '';
  const path = frame.url.startsWith('file://') ? frame.url.slice(7) : frame.url;
  const shown = path.startsWith('/') ? relative(process.cwd(), path) : path;
  return `${shown}:${frame.lineNumber + 1}`;
}

function ownCaller(node: ProfileNode, parents: Map<number, ProfileNode>): string {
  for (let p: ProfileNode | undefined = node; p !== undefined; p = parents.get(p.id)) {
    if (p.callFrame.url.includes('/source/')) return `${p.callFrame.functionName || '(anonymous)'} ${where(p.callFrame)}`;
  }
  return '(none)';
}

export function topSelfTime(profile: CpuProfile, count: number): { top: SelfTime[]; busyMs: number; idleMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n);
  const callers = new Map<string, Map<string, number>>();
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
    const entry = totals.get(key) ?? { name, where: where(node.callFrame), ms: 0, percent: 0, callers: [] };
    entry.ms += us / 1000;
    totals.set(key, entry);
    const byCaller = callers.get(key) ?? new Map<string, number>();
    const caller = ownCaller(node, parents);
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + us / 1000);
    callers.set(key, byCaller);
  });
  const top = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, count);
  for (const [key, t] of top) {
    t.percent = busy === 0 ? 0 : (100 * t.ms * 1000) / busy;
    t.callers = [...(callers.get(key) ?? new Map<string, number>()).entries()]
      .map(([w, ms]) => ({ where: w, ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 3);
  }
  return { top: top.map(([, t]) => t), busyMs: busy / 1000, idleMs: idle / 1000 };
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
    const shown = t.callers.map((c) => `${c.where} ${c.ms.toFixed(0)} ms`).join('; ');
    process.stdout.write(`                    from: ${shown}\n`);
  }
}
