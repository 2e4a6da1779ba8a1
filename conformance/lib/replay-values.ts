// The shapes outputs are compared in: JSON values and XML elements that remember the line they
// started on (so a `## annotation` can name the value it applies to), and HTTP responses.
import sax from 'sax';

export type Scalar = string | number | boolean | null;

export type JsonNode =
  | { kind: 'object'; line: number; members: { key: string; value: JsonNode }[]; annotation?: string }
  | { kind: 'array'; line: number; items: JsonNode[]; annotation?: string }
  | { kind: 'scalar'; line: number; value: Scalar; annotation?: string };

export class ParseError extends Error {}

/** A small JSON reader that records the line each value starts on; reads a sequence of values. */
export function parseJsonSequence(text: string, annotations: Map<number, string> = new Map(), firstLine = 1): JsonNode[] {
  let at = 0;
  let line = firstLine;
  const started: JsonNode[] = [];

  const fail = (what: string): never => {
    throw new ParseError(`JSON, line ${line}: ${what} at "${text.slice(at, at + 20)}"`);
  };
  const skipSpace = (): void => {
    while (at < text.length && /\s/.test(text[at]!)) {
      if (text[at] === '\n') line++;
      at++;
    }
  };
  const track = <T extends JsonNode>(node: T): T => {
    started.push(node);
    return node;
  };
  const readString = (): string => {
    const match = /^"(?:[^"\\\n]|\\.)*"/.exec(text.slice(at));
    if (!match) return fail('bad string');
    at += match[0].length;
    return JSON.parse(match[0]) as string;
  };
  const readValue = (): JsonNode => {
    skipSpace();
    const c = text[at];
    if (c === '{') {
      const node = track<JsonNode & { kind: 'object' }>({ kind: 'object', line, members: [] });
      at++;
      skipSpace();
      if (text[at] === '}') {
        at++;
        return node;
      }
      for (;;) {
        skipSpace();
        const key = readString();
        skipSpace();
        if (text[at] !== ':') fail('expected ":"');
        at++;
        node.members.push({ key, value: readValue() });
        skipSpace();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return node;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      const node = track<JsonNode & { kind: 'array' }>({ kind: 'array', line, items: [] });
      at++;
      skipSpace();
      if (text[at] === ']') {
        at++;
        return node;
      }
      for (;;) {
        node.items.push(readValue());
        skipSpace();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return node;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return track({ kind: 'scalar', line, value: readString() });
    const literal = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(at));
    if (!literal) return fail('unexpected text');
    at += literal[0].length;
    return track({ kind: 'scalar', line, value: JSON.parse(literal[0]) as Scalar });
  };

  const values: JsonNode[] = [];
  for (skipSpace(); at < text.length; skipSpace()) values.push(readValue());
  // An annotation names the last value that starts on its line.
  for (const [annotatedLine, annotation] of annotations) {
    const node = [...started].reverse().find((n) => n.line === annotatedLine);
    if (!node) throw new ParseError(`line ${annotatedLine}: an annotation with no value on its line`);
    node.annotation = annotation;
  }
  return values;
}

/** Plain JavaScript value of a node (for display and for `= value` annotations). */
export function plain(node: JsonNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'array') return node.items.map(plain);
  return Object.fromEntries(node.members.map((m) => [m.key, plain(m.value)]));
}

export interface XmlElement {
  name: string;
  line: number;
  children: XmlElement[];
  text: string;
  annotation?: string;
}

/** Parses an XML document into elements (namespaces and attributes dropped; prolog skipped). */
export function parseXml(text: string, annotations: Map<number, string> = new Map(), firstLine = 1): XmlElement {
  const parser = sax.parser(true, { trim: false, normalize: false });
  const stack: XmlElement[] = [];
  const opened: XmlElement[] = [];
  let root: XmlElement | undefined;
  let error: Error | undefined;
  parser.onerror = (e: Error) => {
    error ??= e;
    parser.resume();
  };
  parser.onopentag = (tag) => {
    const name = tag.name.includes(':') ? tag.name.slice(tag.name.indexOf(':') + 1) : tag.name;
    const element: XmlElement = { name, line: firstLine + parser.line, children: [], text: '' };
    opened.push(element);
    if (stack.length > 0) stack[stack.length - 1]!.children.push(element);
    else root ??= element;
    stack.push(element);
  };
  parser.onclosetag = () => {
    stack.pop();
  };
  const onText = (t: string): void => {
    if (stack.length > 0) stack[stack.length - 1]!.text += t;
  };
  parser.ontext = onText;
  parser.oncdata = onText;
  parser.write(text).close();
  if (error) throw new ParseError(`XML: ${error.message.split('\n')[0]}`);
  if (!root) throw new ParseError('XML: no element');
  for (const [annotatedLine, annotation] of annotations) {
    const element = [...opened].reverse().find((e) => e.line === annotatedLine);
    if (!element) throw new ParseError(`line ${annotatedLine}: an annotation with no element starting on its line`);
    element.annotation = annotation;
  }
  return root;
}

export interface HttpHeader {
  name: string;
  value: string;
  annotation?: string;
  line?: number;
}

export interface HttpResponse {
  statusLine: string;
  headers: HttpHeader[];
  body: string;
}

/** The output of `curl -i`: interim 1xx responses are skipped. */
export function parseCurlOutput(output: string): HttpResponse {
  let rest = output;
  for (;;) {
    const split = rest.search(/\r?\n\r?\n/);
    const head = split < 0 ? rest : rest.slice(0, split);
    const body = split < 0 ? '' : rest.slice(split).replace(/^\r?\n\r?\n/, '');
    const [statusLine = '', ...headerLines] = head.split(/\r?\n/);
    if (!/^HTTP\/\S+ \d{3}/.test(statusLine)) throw new ParseError(`not an HTTP response: ${statusLine.slice(0, 60)}`);
    if (/^HTTP\/\S+ 1\d\d/.test(statusLine) && body.startsWith('HTTP/')) {
      rest = body;
      continue;
    }
    const headers = headerLines.map((h) => {
      const colon = h.indexOf(':');
      return { name: h.slice(0, colon).trim(), value: h.slice(colon + 1).trim() };
    });
    return { statusLine: statusLine.trim(), headers, body };
  }
}

/** An element tree as indented text, one leaf per line, for showing a body beside its expectation. */
export function renderXml(element: XmlElement, indent = ''): string[] {
  if (element.children.length === 0) return [`${indent}<${element.name}>${element.text.trim()}</${element.name}>`];
  return [`${indent}<${element.name}>`, ...element.children.flatMap((c) => renderXml(c, `${indent}  `)), `${indent}</${element.name}>`];
}
