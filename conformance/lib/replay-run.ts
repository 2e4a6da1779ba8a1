// Runs one transcript against a running sluice: generates its fixtures, renames its buckets (and
// its user) for the run, runs each command for real, and compares what it printed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsProfileDir, rawRequest, tempDir, type Endpoint } from './harness';
import { DOC_UUID_ANYWHERE, Scope, compareOutput, expectationOf, type CommandOutput, type Difference, type Expectation } from './replay-compare';
import type { FixtureSpec, Step, Transcript } from './replay-format';
import { displayWords, runProcess, shellWords } from './replay-shell';
import { parseJsonSequence, parseXml, plain, renderXml, type XmlElement } from './replay-values';

/** The host and port the document's commands name. */
export const DOCUMENTED_HOST = 'localhost:39999';

/** Programs a transcript may run, and how to install each when it is missing. */
export const CLIENTS: Record<string, string> = {
  aws: 'apt-get install -y awscli',
  curl: 'apt-get install -y curl',
  python3: 'apt-get install -y python3-boto3',
  stat: 'apt-get install -y coreutils',
  cmp: 'apt-get install -y diffutils',
};

export interface StepFailure {
  step: Step;
  /** The command as run (renamed names, real endpoint). */
  ran: string;
  output: CommandOutput;
  differences: Difference[];
  /** The output with renamed names mapped back, for display. */
  shown: string;
}

export interface TranscriptResult {
  transcript: Transcript;
  passed: boolean;
  commands: number;
  ms: number;
  failure?: StepFailure;
  /** Every command as run and what it printed (names mapped back), for --verbose. */
  log: string[];
  /** A problem that is not a mismatch: a missing client, a transcript that does not parse. */
  error?: string;
  warnings: string[];
}

/** Deterministic printable text of `size` bytes, different for each name (a stand-in for LICENSE). */
export function generatedBytes(name: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let seed = createHash('sha256').update(name).digest();
  let at = 0;
  let column = 0;
  while (at < size) {
    seed = createHash('sha256').update(seed).digest();
    for (const byte of seed) {
      if (at >= size) break;
      // Lines of up to 72 characters from letters, digits and spaces.
      const c = column >= 72 || byte % 61 === 0 ? 0x0a : ' abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.charCodeAt(byte % 63);
      out[at++] = c;
      column = c === 0x0a ? 0 : column + 1;
    }
  }
  return out;
}

function makeFixtures(specs: FixtureSpec[]): Map<string, Buffer> {
  const fixtures = new Map<string, Buffer>();
  for (const spec of specs) {
    if (spec.size !== undefined) fixtures.set(spec.name, generatedBytes(spec.name, spec.size));
    else if (spec.text !== undefined) fixtures.set(spec.name, Buffer.from(spec.text, 'utf8'));
  }
  for (const spec of specs) {
    if (!spec.concat) continue;
    const parts = spec.concat.map((name) => {
      const bytes = fixtures.get(name);
      if (!bytes) throw new Error(`fixture ${spec.name}: no fixture named ${name} declared before it`);
      return bytes;
    });
    fixtures.set(spec.name, Buffer.concat(parts));
  }
  return fixtures;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Rewrites a documented command for this run: renamed names, bound upload ids, the real endpoint. */
function forward(text: string, scope: Scope, renames: [string, string][], workdir: string, port: number): string {
  let out = text;
  for (const [documented, actual] of renames) {
    out = out.replace(new RegExp(`(?<![\\w.-])${escapeRegExp(documented)}(?![\\w-])`, 'g'), actual);
  }
  out = out.replace(DOC_UUID_ANYWHERE, (id) => {
    const bound = scope.ids.get(id);
    if (bound === undefined) throw new Error(`the command uses upload id ${id} before any output issued it`);
    return bound;
  });
  out = out.split(DOCUMENTED_HOST).join(`127.0.0.1:${port}`);
  return out.replace(/(^|[\s="'])\/tmp\//g, `$1${workdir}/tmp/`);
}

/** The header the document shows, for the user a transcript acts as (`-H "$AUTH"` in setup lines). */
export function authorization(user: string): string {
  return `Authorization: AWS4-HMAC-SHA256 Credential=${user}/... SignedHeaders=... Signature=...`;
}

const executables = new Map<string, string>();

/** The program itself rather than a pyenv shim, which costs a bash start and ~0.3 s of CPU per call. */
function executable(program: string): string {
  let path = executables.get(program);
  if (path === undefined) {
    const which = spawnSync('pyenv', ['which', program], { encoding: 'utf8' });
    path = which.status === 0 && which.stdout.trim() !== '' ? which.stdout.trim() : program;
    executables.set(program, path);
  }
  return path;
}

interface RunContext {
  transcript: Transcript;
  server: Endpoint;
  scope: Scope;
  renames: [string, string][];
  workdir: string;
  /** The user the transcript acts as, renamed or literal. */
  user: string;
  env: NodeJS.ProcessEnv;
}

async function runStep(ctx: RunContext, step: Step): Promise<{ ran: string; output: CommandOutput }> {
  const text = forward(step.command, ctx.scope, ctx.renames, ctx.workdir, ctx.server.port);
  const words = shellWords(text, { ALLUXIO_HOME: ctx.workdir, AUTH: authorization(ctx.user) });
  const program = words[0] ?? '';
  if (!(program in CLIENTS)) throw new Error(`the runner does not run "${program}" (it runs ${Object.keys(CLIENTS).join(', ')})`);
  if (program === 'aws' && !words.some((w) => w === '--endpoint' || w.startsWith('--endpoint='))) {
    // Setup commands may leave out what every documented command repeats.
    words.splice(1, 0, '--profile', 'alluxio-s3', '--endpoint', ctx.server.endpoint);
  }
  // curl exits 0 on an HTTP error; without -i (which shows the status line) make that a failure.
  if (program === 'curl') words.splice(1, 0, ...(words.some((w) => w === '-i' || w === '--include') ? ['-sS'] : ['-sS', '--fail-with-body']));
  const shown = displayWords(words);
  words[0] = executable(program);
  const input = step.input === undefined ? undefined : forward(step.input, ctx.scope, ctx.renames, ctx.workdir, ctx.server.port);
  const output = await runProcess(words, { cwd: ctx.workdir, env: ctx.env, timeoutMs: 180_000, ...(input !== undefined ? { input } : {}) });
  return { ran: shown, output };
}

function shownOutput(scope: Scope, output: CommandOutput, expectation?: Expectation): string {
  let out = scope.reverse(output.stdout).replace(/\r\n/g, '\n');
  if (expectation?.kind === 'json') {
    // One value per block, indented like the transcript, so the two columns line up.
    try {
      out = parseJsonSequence(out).map((v) => `${JSON.stringify(plain(v), null, 2)}\n`).join('');
    } catch {
      // shown as printed
    }
  }
  if (expectation?.kind === 'xml' || expectation?.kind === 'http') {
    // An XML body indented like the transcript (entities decoded, namespaces dropped).
    const at = out.search(/<\?xml|<[A-Za-z]/);
    try {
      if (at >= 0) out = `${out.slice(0, at)}${renderXml(parseXml(out.slice(at))).join('\n')}\n`;
    } catch {
      // shown as printed
    }
  }
  const err = scope.reverse(output.stderr).trim();
  if (output.code === 0) return out;
  return `${out}${out === '' || out.endsWith('\n') ? '' : '\n'}[exit ${output.code}] ${err}`;
}

/** Deletes what a transcript left behind, through S3 as its user, so that the next transcript
 *  sharing the same (literal) user sees only its own buckets. */
async function cleanUp(ctx: RunContext): Promise<string[]> {
  const warnings: string[] = [];
  const headers = { Authorization: authorization(ctx.user).replace(/^Authorization: /, '') };
  const base = '/api/v1/s3/';
  const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');
  const request = async (method: string, path: string): Promise<{ status: number; root?: XmlElement }> => {
    const res = await rawRequest(ctx.server, method, base + path, { headers });
    let root: XmlElement | undefined;
    try {
      if (res.text.trim().startsWith('<')) root = parseXml(res.text);
    } catch {
      root = undefined;
    }
    return { status: res.status, ...(root ? { root } : {}) };
  };
  const texts = (root: XmlElement | undefined, parent: string, name: string): string[] =>
    (root?.children ?? []).filter((c) => c.name === parent).map((c) => c.children.find((x) => x.name === name)?.text ?? '');
  for (const bucket of ctx.transcript.buckets) {
    const actual = ctx.renames.find(([doc]) => doc === bucket)?.[1] ?? bucket;
    try {
      const head = await request('HEAD', actual);
      if (head.status === 404) continue;
      const uploads = await request('GET', `${actual}?uploads`);
      if (uploads.status === 200) {
        for (const upload of (uploads.root?.children ?? []).filter((c) => c.name === 'Upload')) {
          const key = upload.children.find((c) => c.name === 'Key')?.text ?? '';
          const id = upload.children.find((c) => c.name === 'UploadId')?.text ?? '';
          await request('DELETE', `${actual}/${encodeKey(key)}?uploadId=${encodeURIComponent(id)}`);
        }
      }
      const listed = await request('GET', `${actual}?list-type=2&max-keys=1000`);
      // Deepest keys first, so a folder is deleted after what it holds.
      for (const key of texts(listed.root, 'Contents', 'Key').sort().reverse()) await request('DELETE', `${actual}/${encodeKey(key)}`);
      const deleted = await request('DELETE', actual);
      if (deleted.status !== 204 && deleted.status !== 404) warnings.push(`cleanup: DeleteBucket ${bucket} answered ${deleted.status}`);
    } catch (e) {
      warnings.push(`cleanup of ${bucket}: ${(e as Error).message}`);
    }
  }
  return warnings;
}

export async function runTranscript(transcript: Transcript, prefix: string, server: Endpoint, missing: Map<string, string>): Promise<TranscriptResult> {
  const started = Date.now();
  const result: TranscriptResult = { transcript, passed: false, commands: 0, ms: 0, log: [], warnings: [] };
  const programs = new Set(transcript.steps.map((s) => s.command.trim().split(/\s+/)[0] ?? ''));
  const needs = [...programs].filter((p) => missing.has(p));
  if (needs.length > 0) {
    result.error = needs.map((p) => missing.get(p)!).join('; ');
    result.ms = Date.now() - started;
    return result;
  }
  const workdir = tempDir(`sluice-replay-${prefix}-`);
  const profile = awsProfileDir(transcript.literalUser ? transcript.user : `${prefix}-${transcript.user}`);
  try {
    mkdirSync(join(workdir, 'tmp'));
    const fixtures = makeFixtures(transcript.fixtures);
    for (const [name, bytes] of fixtures) writeFileSync(join(workdir, name), bytes);
    const scope = new Scope(fixtures);
    const renames: [string, string][] = transcript.buckets.map((b) => [b, `${prefix}-${b}`]);
    if (!transcript.literalUser) renames.push([transcript.user, `${prefix}-${transcript.user}`]);
    for (const [, actual] of renames) if (actual.length > 63) throw new Error(`renamed bucket ${actual} is longer than 63 characters`);
    scope.names.push(...renames, [DOCUMENTED_HOST, `127.0.0.1:${server.port}`], ['/tmp/', `${workdir}/tmp/`], ['${ALLUXIO_HOME}', workdir]);
    const ctx: RunContext = {
      transcript,
      server,
      scope,
      renames,
      workdir,
      user: transcript.literalUser ? transcript.user : `${prefix}-${transcript.user}`,
      env: {
        ...process.env,
        ALLUXIO_HOME: workdir,
        AWS_CONFIG_FILE: join(profile, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(profile, 'credentials'),
        AWS_PAGER: '',
        AWS_DEFAULT_OUTPUT: 'json',
        AWS_MAX_ATTEMPTS: '1',
        AWS_RETRY_MODE: 'standard',
        AWS_EC2_METADATA_DISABLED: 'true',
        PYTHONDONTWRITEBYTECODE: '1',
      },
    };
    try {
      for (const step of transcript.steps) {
        const where = (e: unknown): Error => new Error(`${transcript.file}:${step.line}: ${(e as Error).message}`);
        let expectation: Expectation;
        let ran: string;
        let output: CommandOutput;
        let differences: Difference[];
        try {
          expectation = expectationOf(step);
          ({ ran, output } = await runStep(ctx, step));
          result.commands++;
          differences = compareOutput(scope, expectation, output);
          result.log.push(`$ ${ran}`, ...shownOutput(scope, output).replace(/\n$/, '').split('\n'));
        } catch (e) {
          throw where(e);
        }
        if (differences.length > 0) {
          result.failure = { step, ran, output, differences, shown: shownOutput(scope, output, expectation) };
          break;
        }
      }
      result.passed = result.failure === undefined;
    } finally {
      if (transcript.literalUser) result.warnings.push(...(await cleanUp(ctx)));
    }
  } catch (e) {
    result.passed = false;
    result.error = (e as Error).message;
  } finally {
    rmSync(workdir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
  result.ms = Date.now() - started;
  return result;
}
