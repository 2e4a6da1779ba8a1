// Response XML: small helpers that build documents as strings with proper escaping.

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Opens every document; a document streamed in pieces (keep-alive whitespace first) starts with it. */
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

// Characters XML 1.0 cannot carry even escaped; S3 sends them as numeric references. CR is
// escaped too: a parser turns a literal CR (or CRLF) into LF, so `a\rb` would come back as `a\nb`.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[&<>"']|[\u0000-\u0008\u000b\u000c\u000d\u000e-\u001f\ufffe\uffff]/g;

export function escapeXml(text: string): string {
  return text.replace(UNSAFE, (ch) => ESCAPES[ch] ?? `&#x${ch.charCodeAt(0).toString(16)};`);
}

/** A node of a response document: text, a number, a boolean, or nested children; and its attributes, if any. */
export type XmlValue = string | number | boolean | XmlNode[] | null | undefined;
export type XmlNode = [name: string, value: XmlValue] | [name: string, value: XmlValue, attributes: Record<string, string>];

function render(nodes: XmlNode[], out: string[]): void {
  for (const [name, value, attributes] of nodes) {
    if (value === undefined) continue;
    const open = attributes ? `${name}${Object.entries(attributes).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('')}` : name;
    if (value === null) {
      out.push(`<${open}/>`);
    } else if (Array.isArray(value)) {
      out.push(`<${open}>`);
      render(value, out);
      out.push(`</${name}>`);
    } else {
      out.push(`<${open}>${escapeXml(String(value))}</${name}>`);
    }
  }
}

/** Renders `<root xmlns=...>content</root>` with the XML declaration; content is children or text. */
export function xmlDocument(root: string, content: XmlNode[] | string, namespace: string | null = S3_NS): string {
  const out: string[] = [XML_DECLARATION];
  out.push(namespace ? `<${root} xmlns="${namespace}">` : `<${root}>`);
  if (typeof content === 'string') out.push(escapeXml(content));
  else render(content, out);
  out.push(`</${root}>`);
  return out.join('');
}
