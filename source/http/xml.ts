// Response XML: small helpers that build documents as strings with proper escaping.

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

// Characters XML 1.0 cannot carry even escaped; S3 sends them as numeric references. CR is
// escaped too: a parser turns a literal CR (or CRLF) into LF, so `a\rb` would come back as `a\nb`.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[&<>"']|[\u0000-\u0008\u000b\u000c\u000d\u000e-\u001f\ufffe\uffff]/g;

export function escapeXml(text: string): string {
  return text.replace(UNSAFE, (ch) => ESCAPES[ch] ?? `&#x${ch.charCodeAt(0).toString(16)};`);
}

/** A node of a response document: text, a number, a boolean, or nested children. */
export type XmlValue = string | number | boolean | XmlNode[] | null | undefined;
export type XmlNode = [name: string, value: XmlValue];

function render(nodes: XmlNode[], out: string[]): void {
  for (const [name, value] of nodes) {
    if (value === undefined) continue;
    if (value === null) {
      out.push(`<${name}/>`);
    } else if (Array.isArray(value)) {
      out.push(`<${name}>`);
      render(value, out);
      out.push(`</${name}>`);
    } else {
      out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
    }
  }
}

/** Renders `<root xmlns=...>children</root>` with the XML declaration. */
export function xmlDocument(root: string, children: XmlNode[], namespace: string | null = S3_NS): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  out.push(namespace ? `<${root} xmlns="${namespace}">` : `<${root}>`);
  render(children, out);
  out.push(`</${root}>`);
  return out.join('');
}
