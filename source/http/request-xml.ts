// Request XML (DeleteObjects, CompleteMultipartUpload, Tagging, CreateBucketConfiguration):
// parsed strictly with sax, no DOCTYPE, no entities, into a tiny tree. Bodies are read under a
// size bound before they get here.
import type * as Sax from 'sax';
import { S3Error } from '../errors';

// Loaded on the first XML body: most servers rarely see one, and the parser costs memory idle.
let sax: typeof Sax | undefined;

export interface XmlElement {
  name: string;
  text: string;
  children: XmlElement[];
}

/** Parses a complete XML document; any flaw is MalformedXML. */
export function parseXml(source: string): XmlElement {
  // sax does not check characters: refuse those XML 1.0 forbids, as it already does for `&#1;`.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(source)) throw new S3Error('MalformedXML');
  sax ??= require('sax') as typeof Sax;
  const parser = sax.parser(true, { trim: false, normalize: false, xmlns: false, position: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: string | undefined;
  parser.onerror = (e) => {
    failure ??= e.message.split('\n')[0];
    parser.error = null as unknown as Error;
  };
  parser.ondoctype = () => {
    failure ??= 'DOCTYPE is not allowed';
  };
  parser.onopentag = (tag) => {
    // Namespace prefixes are dropped: S3 documents are matched by local name.
    const name = tag.name.includes(':') ? tag.name.slice(tag.name.indexOf(':') + 1) : tag.name;
    const element: XmlElement = { name, text: '', children: [] };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else if (root) failure ??= 'more than one root element';
    else root = element;
    stack.push(element);
  };
  parser.onclosetag = () => {
    stack.pop();
  };
  const ontext = (text: string): void => {
    const current = stack[stack.length - 1];
    if (current) current.text += text;
    else if (text.trim() !== '') failure ??= 'text outside the root element';
  };
  parser.ontext = ontext;
  parser.oncdata = ontext;
  try {
    // XML line-end normalization, which sax leaves out: a literal CRLF or CR is LF (`&#xd;` stays CR).
    parser.write(source.replace(/\r\n?/g, '\n')).close();
  } catch (e) {
    failure ??= (e as Error).message;
  }
  if (failure !== undefined || !root || stack.length !== 0) {
    throw new S3Error('MalformedXML');
  }
  return root;
}

export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}
