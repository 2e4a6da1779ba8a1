// The transcript replay (`make conformance`): runs every documented example in
// conformance/transcripts/ against a fresh sluice and compares what the clients print with what
// the document shows. Usage: node dist/conformance/replay.js [--jobs N] [--verbose] [--shuffle] [name-filter ...] [-- serve args]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, commandExists, startSluice, type Endpoint, type Sluice } from './lib/harness';
import { parseTranscript, type Transcript } from './lib/replay-format';
import { failureDetail, summaryLine } from './lib/replay-report';
import { CLIENTS, runTranscript, type TranscriptResult } from './lib/replay-run';

export const TRANSCRIPTS = join(REPO, 'conformance', 'transcripts');

export interface ReplayOptions {
  /** Only transcripts whose name contains one of these. */
  filter?: string[];
  /** Transcripts run at once (aws cli start-up is CPU-bound: keep this near the core count). */
  jobs?: number;
  /** Where the per-transcript lines go (default: stdout). */
  log?: (line: string) => void;
  /** Run the transcripts in a random order (they must not depend on one another). */
  shuffle?: boolean;
  /** Print every command and its output, passing or not. */
  verbose?: boolean;
  /** Extra `sluice serve` arguments. */
  serverArgs?: string[];
  /** Replay against this running server (a load balancer, say) instead of starting a sluice. */
  target?: Endpoint;
}

export interface ReplayReport {
  results: TranscriptResult[];
  passed: number;
  failed: number;
}

/** Clients that are missing here: program → what is missing and the command that installs it. */
export function missingClients(): Map<string, string> {
  const missing = new Map<string, string>();
  for (const [program, install] of Object.entries(CLIENTS)) {
    if (!commandExists(program)) missing.set(program, `${program} is missing: ${install}`);
  }
  if (!missing.has('python3') && spawnSync('python3', ['-c', 'import boto3']).status !== 0) missing.set('python3', `boto3 is missing: ${CLIENTS.python3}`);
  return missing;
}

interface Loaded {
  transcript?: Transcript;
  file: string;
  error?: string;
}

function load(filter: string[]): Loaded[] {
  return readdirSync(TRANSCRIPTS)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .filter((f) => filter.length === 0 || filter.some((w) => f.includes(w)))
    .map((f) => {
      const file = join(TRANSCRIPTS, f);
      try {
        return { file, transcript: parseTranscript(file) };
      } catch (e) {
        return { file, error: (e as Error).message };
      }
    });
}

/** A copy of `items` in random order (Fisher-Yates), for --shuffle. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Transcripts that act as the same literal user share its bucket list: they run one at a time, in
 * one lane. The others each get their own renamed user and buckets and run in parallel.
 */
function lanes(transcripts: Transcript[], shuffle: boolean): Transcript[][] {
  const byKey = new Map<string, Transcript[]>();
  for (const t of transcripts) {
    const key = t.literalUser ? `user:${t.user}` : `own:${t.name}`;
    byKey.set(key, [...(byKey.get(key) ?? []), t]);
  }
  if (shuffle) return shuffled([...byKey.values()].map(shuffled));
  const cost = (lane: Transcript[]): number => lane.reduce((n, t) => n + t.steps.length, 0);
  return [...byKey.values()].sort((a, b) => cost(b) - cost(a));
}

export async function replayAll(options: ReplayOptions = {}): Promise<ReplayReport> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const loaded = load(options.filter ?? []);
  const results: TranscriptResult[] = [];
  const report = (result: TranscriptResult): void => {
    results.push(result);
    log(summaryLine(result));
    if (options.verbose) for (const line of result.log) log(`     ${line}`);
    for (const line of failureDetail(result)) log(line);
  };
  for (const bad of loaded.filter((l) => l.error !== undefined)) {
    const name = bad.file.split('/').pop()!.replace(/\.txt$/, '');
    const transcript: Transcript = { file: bad.file, name, title: '(does not parse)', buckets: [], user: '', literalUser: false, fixtures: [], steps: [] };
    report({ transcript, passed: false, commands: 0, ms: 0, error: bad.error!, log: [], warnings: [] });
  }
  const transcripts = loaded.flatMap((l) => (l.transcript ? [l.transcript] : []));
  // Short per-transcript prefixes for renamed buckets and users: t01, t02, ... in file order.
  const all = readdirSync(TRANSCRIPTS).filter((f) => f.endsWith('.txt')).sort();
  const prefixOf = (t: Transcript): string => `t${String(all.indexOf(t.file.split('/').pop()!) + 1).padStart(2, '0')}`;

  const missing = missingClients();
  let own: Sluice | undefined;
  try {
    if (transcripts.length > 0 && !options.target) own = await startSluice(options.serverArgs ? { args: options.serverArgs } : {});
    const server = options.target ?? own;
    const queue = lanes(transcripts, options.shuffle ?? false);
    const jobs = Math.max(1, options.jobs ?? 3);
    const worker = async (): Promise<void> => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) {
        for (const t of lane) report(await runTranscript(t, prefixOf(t), server!, missing));
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
    if (own && own.process.exitCode !== null) {
      log(`sluice exited during the replay (code ${own.process.exitCode}); its output:`);
      log(own.output().split('\n').slice(-30).join('\n'));
    }
  } finally {
    await own?.stop();
  }
  const passed = results.filter((r) => r.passed).length;
  const failed = results.length - passed;
  if (missing.size > 0) {
    log('');
    log('Missing clients (the transcripts that need them fail rather than skip):');
    for (const message of missing.values()) log(`  ${message}`);
  }
  log('');
  log(`${passed} passed, ${failed} failed`);
  return { results, passed, failed };
}

function parseArgs(argv: string[]): ReplayOptions {
  const options: ReplayOptions = { filter: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--jobs' || arg === '-j') options.jobs = Number(argv[++i]);
    else if (arg.startsWith('--jobs=')) options.jobs = Number(arg.slice(7));
    else if (arg === '--verbose' || arg === '-v') options.verbose = true;
    else if (arg === '--shuffle') options.shuffle = true;
    else if (arg === '--') options.serverArgs = argv.splice(i + 1);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: node dist/conformance/replay.js [--jobs N] [--verbose] [--shuffle] [name-filter ...] [-- sluice serve args]\n');
      process.exit(0);
    } else options.filter!.push(arg);
  }
  return options;
}

if (require.main === module) {
  replayAll(parseArgs(process.argv.slice(2))).then(
    (r) => process.exit(r.failed === 0 && r.results.length > 0 ? 0 : 1),
    (e: unknown) => {
      process.stderr.write(`replay: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
}
