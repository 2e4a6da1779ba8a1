// Structural comparison of what a command printed with what its transcript expects: exact where
// the value is determined, by pattern for dates and upload ids, and ETags computed from the fixture
// that was actually uploaded. Names renamed for the run (buckets, users, paths) are mapped back first.
import { createHash } from 'node:crypto';
import type { ExpectedLine, Step } from './replay-format';
import {
  ParseError,
  parseCurlOutput,
  parseJsonSequence,
  parseXml,
  plain,
  type HttpHeader,
  type HttpResponse,
  type JsonNode,
  type Scalar,
  type XmlElement,
} from './replay-values';

export interface Difference {
  path: string;
  expected: string;
  actual: string;
}

/** What the run knows: fixture bytes, renamed names, upload ids bound so far. */
export class Scope {
  /** [documented, actual] pairs: buckets, users, the endpoint's host, local paths. */
  readonly names: [string, string][] = [];
  /** Documented upload id → the id the server issued for it. */
  readonly ids = new Map<string, string>();
  constructor(readonly fixtures: Map<string, Buffer>) {}

  /** Actual text with every renamed name and bound id put back to the document's spelling. */
  reverse(text: string): string {
    const pairs: [string, string][] = [...this.names, ...[...this.ids].filter(([, actual]) => actual.length >= 8)];
    pairs.sort((a, b) => b[1].length - a[1].length);
    let out = text;
    for (const [documented, actual] of pairs) out = out.split(actual).join(documented);
    return out;
  }

  fixture(name: string): Buffer {
    const bytes = this.fixtures.get(name);
    if (!bytes) throw new ParseError(`no fixture named "${name}" (declare it in the header: fixture ${name}: ...)`);
    return bytes;
  }
}

export const DOC_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const DOC_UUID_ANYWHERE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;
const DAY_MS = 24 * 3600 * 1000;

/** Where a value came from: aws cli JSON shows dates in either form (cli v1 prints header dates
 *  raw, v2 as ISO 8601); in XML a date must be ISO 8601 and in a header an HTTP-date. */
type Form = 'json' | 'xml' | 'header';

const md5 = (bytes: Buffer): Buffer => createHash('md5').update(bytes).digest();

function multipartEtag(scope: Scope, args: string[]): string {
  let parts: Buffer[];
  const split = args.length === 1 ? /^([\w.-]+):(\d+)$/.exec(args[0]!) : null;
  if (split) {
    const bytes = scope.fixture(split[1]!);
    const size = Number(split[2]);
    parts = [];
    for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  } else {
    parts = args.map((name) => scope.fixture(name));
  }
  return `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}"`;
}

const show = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));

interface Leaf {
  path: string;
  expected: Scalar;
  annotation: string | undefined;
  actual: unknown;
  form: Form;
  bodyLength?: number;
}

/** Compares one value; undefined when it matches. */
function compareLeaf(scope: Scope, leaf: Leaf): Difference | undefined {
  const { path, expected, form } = leaf;
  const annotation = leaf.annotation?.replace(/^\+\s*/, '') ?? '';
  const differ = (wanted: string, actual: unknown = leaf.actual): Difference => ({ path, expected: wanted, actual: show(typeof actual === 'string' ? scope.reverse(actual) : actual) });
  const [word = '', ...args] = annotation.split(/\s+/).filter((w) => w !== '');
  const actual = leaf.actual;
  const text = typeof actual === 'string' ? actual : undefined;

  switch (word) {
    case 'any':
      return undefined;
    case 'present':
      return actual === undefined ? differ('present, any value') : undefined;
    case 'absent':
      return actual === undefined ? undefined : differ('(absent)');
    case 'etag': {
      const wanted = `"${md5(Buffer.concat(args.map((n) => scope.fixture(n)))).toString('hex')}"`;
      return text === wanted ? undefined : differ(`${show(wanted)} (the quoted MD5 of ${args.join(' + ')})`);
    }
    case 'multipart-etag': {
      const wanted = multipartEtag(scope, args);
      return text === wanted ? undefined : differ(`${show(wanted)} (MD5 of the parts' MD5s, -N, for ${args.join(' + ')})`);
    }
    case 'md5': {
      const wanted = md5(Buffer.concat(args.map((n) => scope.fixture(n)))).toString('hex');
      return text === wanted ? undefined : differ(`${show(wanted)} (MD5 of ${args.join(' + ')})`);
    }
    case 'length':
      return String(actual) === String(leaf.bodyLength) ? undefined : differ(`${leaf.bodyLength} (the length of the body received)`);
    case 'date':
      return checkDate(scope, leaf, text, form === 'json' ? 'any' : form === 'xml' ? 'iso' : 'http');
    case 'id':
      return checkId(scope, leaf, String(expected), text);
    case '=': {
      const rest = annotation.slice(1).trim();
      let wanted: unknown;
      try {
        wanted = JSON.parse(rest);
      } catch {
        throw new ParseError(`${path}: "= ${rest}" is not a JSON value`);
      }
      const got = typeof actual === 'string' ? scope.reverse(actual) : actual;
      const same = form === 'json' ? JSON.stringify(got) === JSON.stringify(wanted) : String(got) === String(wanted);
      return same ? undefined : differ(show(wanted));
    }
    case '~': {
      const pattern = annotation.slice(1).trim();
      const got = typeof actual === 'string' ? scope.reverse(actual) : actual === undefined ? undefined : String(actual);
      return got !== undefined && new RegExp(`^(?:${pattern})$`).test(got) ? undefined : differ(`matching /${pattern}/`);
    }
    case '':
      break;
    default:
      throw new ParseError(`${path}: unknown annotation "## ${annotation}"`);
  }

  // No annotation: the documented value, with dates and upload ids recognised by their shape.
  if (typeof expected === 'string' && (ISO_DATE.test(expected) || HTTP_DATE.test(expected))) {
    const family = form === 'json' ? 'any' : ISO_DATE.test(expected) ? 'iso' : 'http';
    return checkDate(scope, leaf, text, family);
  }
  if (typeof expected === 'string' && DOC_UUID.test(expected)) return checkId(scope, leaf, expected, text);
  if (actual === undefined) return differ(show(expected));
  if (form === 'json') {
    const got = typeof actual === 'string' ? scope.reverse(actual) : actual;
    return got === expected ? undefined : differ(show(expected));
  }
  const got = scope.reverse(String(actual));
  return got === String(expected) ? undefined : differ(show(String(expected)));
}

function checkDate(scope: Scope, leaf: Leaf, text: string | undefined, family: 'iso' | 'http' | 'any'): Difference | undefined {
  const wanted = family === 'iso' ? 'an ISO 8601 date' : family === 'http' ? 'an HTTP-date' : 'a date';
  const fail = (): Difference => ({ path: leaf.path, expected: `${wanted} within a day of now (documented ${show(leaf.expected)})`, actual: show(text === undefined ? leaf.actual : scope.reverse(text)) });
  if (text === undefined) return fail();
  const formOk = family === 'iso' ? ISO_DATE.test(text) : family === 'http' ? HTTP_DATE.test(text) : ISO_DATE.test(text) || HTTP_DATE.test(text);
  if (!formOk) return fail();
  const when = Date.parse(text);
  return Number.isFinite(when) && Math.abs(when - Date.now()) < DAY_MS ? undefined : fail();
}

/** A documented upload id: the first time it is seen it binds to what the server issued; after
 *  that the server must answer with that same id. */
function checkId(scope: Scope, leaf: Leaf, documented: string, text: string | undefined): Difference | undefined {
  const bound = scope.ids.get(documented);
  if (bound !== undefined) {
    return text === bound ? undefined : { path: leaf.path, expected: `the upload id issued earlier (${bound})`, actual: show(text ?? leaf.actual) };
  }
  if (text === undefined || !/^[\x21-\x7e]{1,1024}$/.test(text)) {
    return { path: leaf.path, expected: `an upload id (documented ${documented})`, actual: show(leaf.actual) };
  }
  for (const [other, id] of scope.ids) {
    if (id === text) return { path: leaf.path, expected: `a new upload id (documented ${documented})`, actual: `${show(text)}, already issued for ${other}` };
  }
  scope.ids.set(documented, text);
  return undefined;
}

/** How a container-level annotation (any, absent, present, = value) applies to a whole value. */
function containerVerdict(scope: Scope, path: string, annotation: string | undefined, expected: unknown, actual: unknown, form: Form): Difference[] | undefined {
  const word = annotation?.replace(/^\+\s*/, '').split(/\s+/)[0];
  if (word === 'any' || word === 'absent' || word === 'present' || word === '=') {
    const scalarExpected = (typeof expected === 'object' && expected !== null ? null : expected) as Scalar;
    const d = compareLeaf(scope, { path, expected: scalarExpected, annotation, actual, form });
    return d ? [d] : [];
  }
  return undefined;
}

export function compareJson(scope: Scope, expected: JsonNode, actual: unknown, path = ''): Difference[] {
  const verdict = containerVerdict(scope, path || '(value)', expected.annotation, plain(expected), actual, 'json');
  if (verdict) return verdict;
  if (expected.kind === 'scalar') {
    const d = compareLeaf(scope, { path: path || '(value)', expected: expected.value, annotation: expected.annotation, actual, form: 'json' });
    return d ? [d] : [];
  }
  if (expected.kind === 'array') {
    if (!Array.isArray(actual)) return [{ path: path || '(value)', expected: `an array of ${expected.items.length}`, actual: show(actual) }];
    const diffs: Difference[] = [];
    if (actual.length !== expected.items.length) {
      diffs.push({ path: path || '(value)', expected: `${expected.items.length} items`, actual: `${actual.length} items` });
    }
    expected.items.forEach((item, i) => {
      if (i < actual.length) diffs.push(...compareJson(scope, item, actual[i], `${path}[${i}]`));
    });
    return diffs;
  }
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
    return [{ path: path || '(value)', expected: 'an object', actual: show(actual) }];
  }
  const record = actual as Record<string, unknown>;
  const diffs: Difference[] = [];
  for (const member of expected.members) {
    const memberPath = `${path}.${member.key}`;
    const has = Object.prototype.hasOwnProperty.call(record, member.key);
    diffs.push(...compareJson(scope, member.value, has ? record[member.key] : undefined, memberPath));
  }
  return diffs;
}

/** Elements are compared by name: same-named siblings in order and in number; siblings the
 *  transcript does not name are S3 additions the document did not show, and are not compared. */
export function compareXml(scope: Scope, expected: XmlElement, actual: XmlElement | undefined, path = `/${expected.name}`): Difference[] {
  const verdict = containerVerdict(scope, path, expected.annotation, expected.children.length === 0 ? expected.text.trim() : null, actual === undefined ? undefined : actual.children.length > 0 ? '(element)' : actual.text, 'xml');
  if (verdict) return verdict;
  if (!actual) return [{ path, expected: 'present', actual: '(absent)' }];
  if (actual.name !== expected.name) return [{ path, expected: `<${expected.name}>`, actual: `<${actual.name}>` }];
  if (expected.children.length === 0) {
    if (actual.children.length > 0) return [{ path, expected: show(expected.text.trim()), actual: `<${actual.children.map((c) => c.name).join('>, <')}>` }];
    const d = compareLeaf(scope, { path, expected: expected.text.trim(), annotation: expected.annotation, actual: actual.text, form: 'xml' });
    return d ? [d] : [];
  }
  const diffs: Difference[] = [];
  const names = [...new Set(expected.children.map((c) => c.name))];
  for (const name of names) {
    const wanted = expected.children.filter((c) => c.name === name);
    const got = actual.children.filter((c) => c.name === name);
    const only = wanted.length === 1 ? wanted[0]! : undefined;
    if (only && (containerVerdict(scope, `${path}/${name}`, only.annotation, null, undefined, 'xml') !== undefined) && got.length <= 1) {
      diffs.push(...compareXml(scope, only, got[0], `${path}/${name}`));
      continue;
    }
    if (wanted.length !== got.length) diffs.push({ path: `${path}/${name}`, expected: `${wanted.length} element(s)`, actual: `${got.length} element(s)` });
    wanted.forEach((w, i) => {
      if (i < got.length) diffs.push(...compareXml(scope, w, got[i], wanted.length > 1 ? `${path}/${name}[${i + 1}]` : `${path}/${name}`));
    });
  }
  return diffs;
}

export type Expectation =
  | { kind: 'none' }
  | { kind: 'empty' }
  | { kind: 'error'; code: string }
  | { kind: 'json'; values: JsonNode[] }
  | { kind: 'xml'; root: XmlElement }
  | { kind: 'http'; statusLine: string; headers: HttpHeader[]; body?: XmlElement }
  | { kind: 'text'; lines: ExpectedLine[] };

/** Annotations keyed by line within the block (1-based), as the parsers count lines. */
function annotationsOf(lines: ExpectedLine[]): Map<number, string> {
  const map = new Map<number, string>();
  lines.forEach((l, i) => {
    if (l.annotation !== undefined) map.set(i + 1, l.annotation);
  });
  return map;
}

/** Reads a step's expected block into what it asserts. */
export function expectationOf(step: Step): Expectation {
  const lines = step.expected;
  if (lines.length === 0) return step.section === 'setup' ? { kind: 'none' } : { kind: 'empty' };
  const first = lines[0]!.text.trim();
  const error = /^! error (\S+)$/.exec(first);
  if (error) return { kind: 'error', code: error[1]! };
  // Line numbers inside the block are 1-based; annotations are keyed the same way.
  const text = lines.map((l) => l.text).join('\n');
  if (first.startsWith('{') || first.startsWith('[')) return { kind: 'json', values: parseJsonSequence(text, annotationsOf(lines)) };
  if (first.startsWith('<')) return { kind: 'xml', root: parseXml(text, annotationsOf(lines)) };
  if (first.startsWith('HTTP/')) {
    const blank = lines.findIndex((l) => l.text.trim() === '');
    const head = blank < 0 ? lines : lines.slice(0, blank);
    const bodyLines = blank < 0 ? [] : lines.slice(blank + 1);
    const headers = head.slice(1).map((l) => {
      const colon = l.text.indexOf(':');
      if (colon < 0) throw new ParseError(`line ${l.line}: expected "Header: value"`);
      return { name: l.text.slice(0, colon).trim(), value: l.text.slice(colon + 1).trim(), line: l.line, ...(l.annotation !== undefined ? { annotation: l.annotation } : {}) };
    });
    const expectation: Expectation = { kind: 'http', statusLine: first, headers };
    if (bodyLines.length > 0) expectation.body = parseXml(bodyLines.map((l) => l.text).join('\n'), annotationsOf(bodyLines));
    return expectation;
  }
  return { kind: 'text', lines };
}

export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

function compareHttp(scope: Scope, expected: Expectation & { kind: 'http' }, response: HttpResponse): Difference[] {
  const diffs: Difference[] = [];
  if (response.statusLine !== expected.statusLine) diffs.push({ path: 'status line', expected: expected.statusLine, actual: response.statusLine });
  const bodyLength = Buffer.byteLength(response.body);
  for (const header of expected.headers) {
    const found = response.headers.find((h) => h.name.toLowerCase() === header.name.toLowerCase());
    const d = compareLeaf(scope, { path: `header ${header.name}`, expected: header.value, annotation: header.annotation, actual: found?.value, form: 'header', bodyLength });
    if (d) diffs.push(d);
  }
  if (expected.body) {
    let root: XmlElement;
    try {
      root = parseXml(response.body);
    } catch (e) {
      return [...diffs, { path: 'body', expected: `<${expected.body.name}> document`, actual: `${(e as Error).message}: ${show(response.body.slice(0, 200))}` }];
    }
    diffs.push(...compareXml(scope, expected.body, root));
  } else if (response.body.trim() !== '') {
    diffs.push({ path: 'body', expected: '(empty)', actual: show(scope.reverse(response.body.slice(0, 200))) });
  }
  return diffs;
}

const normalize = (line: string): string => line.replace(/\s+/g, ' ').trim();

function compareText(scope: Scope, expected: ExpectedLine[], stdout: string): Difference[] {
  const actual = scope.reverse(stdout).replace(/\n$/, '').split('\n');
  const diffs: Difference[] = [];
  for (let i = 0; i < expected.length; i++) {
    const wanted = expected[i]!;
    if (wanted.text.trim() === '...' && wanted.annotation === undefined) return diffs;
    const got = actual[i];
    if (got === undefined) {
      diffs.push({ path: `line ${i + 1}`, expected: normalize(wanted.text), actual: '(no more output)' });
      return diffs;
    }
    const pattern = wanted.annotation?.startsWith('~') ? wanted.annotation.slice(1).trim() : undefined;
    const ok = pattern !== undefined ? new RegExp(`^(?:${pattern})$`).test(normalize(got)) : normalize(got) === normalize(wanted.text);
    if (wanted.annotation !== undefined && pattern === undefined) throw new ParseError(`line ${wanted.line}: a text line takes only "## ~ regex"`);
    if (!ok) diffs.push({ path: `line ${i + 1}`, expected: pattern !== undefined ? `matching /${pattern}/` : normalize(wanted.text), actual: normalize(got) });
  }
  if (actual.length > expected.length) diffs.push({ path: `line ${expected.length + 1}`, expected: '(end of output)', actual: normalize(actual[expected.length]!) });
  return diffs;
}

/** Compares one command's result with its expectation; an empty list means it matched. */
export function compareOutput(scope: Scope, expectation: Expectation, output: CommandOutput): Difference[] {
  if (expectation.kind === 'error') {
    const named = output.stderr.includes(`(${expectation.code})`);
    if (output.code !== 0 && named) return [];
    return [{ path: 'result', expected: `a failure naming the S3 error ${expectation.code}`, actual: output.code === 0 ? 'success (exit 0)' : `exit ${output.code}: ${scope.reverse(output.stderr.trim()).slice(0, 300)}` }];
  }
  if (output.code !== 0) return [{ path: 'exit status', expected: '0', actual: `${output.code}: ${scope.reverse(output.stderr.trim()).slice(0, 600)}` }];
  switch (expectation.kind) {
    case 'none':
      return [];
    case 'empty':
      return output.stdout.trim() === '' ? [] : [{ path: 'output', expected: '(nothing)', actual: show(scope.reverse(output.stdout.trim()).slice(0, 300)) }];
    case 'json': {
      let actual: unknown[];
      try {
        actual = parseJsonSequence(output.stdout).map(plain);
      } catch (e) {
        return [{ path: 'output', expected: 'JSON', actual: `${(e as Error).message}: ${show(output.stdout.slice(0, 200))}` }];
      }
      const diffs: Difference[] = [];
      if (actual.length !== expectation.values.length) diffs.push({ path: 'output', expected: `${expectation.values.length} JSON value(s)`, actual: `${actual.length}` });
      expectation.values.forEach((value, i) => {
        if (i < actual.length) diffs.push(...compareJson(scope, value, actual[i], expectation.values.length > 1 ? `#${i + 1}` : ''));
      });
      return diffs;
    }
    case 'xml': {
      let root: XmlElement;
      try {
        root = parseXml(output.stdout);
      } catch (e) {
        return [{ path: 'output', expected: `<${expectation.root.name}> document`, actual: `${(e as Error).message}: ${show(output.stdout.slice(0, 200))}` }];
      }
      return compareXml(scope, expectation.root, root);
    }
    case 'http': {
      let response: HttpResponse;
      try {
        response = parseCurlOutput(output.stdout);
      } catch (e) {
        return [{ path: 'output', expected: 'an HTTP response (curl -i)', actual: (e as Error).message }];
      }
      return compareHttp(scope, expectation, response);
    }
    case 'text':
      return compareText(scope, expectation.lines, output.stdout);
  }
}
