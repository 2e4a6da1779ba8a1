// Java .properties files, so an Alluxio user's alluxio-site.properties keeps working.

// Java's whitespace in .properties: space, tab and form feed (not every Unicode blank).
const LEADING_BLANKS = /^[ \t\f]+/;

/**
 * Parses `key=value` / `key: value` / `key value` lines, `#` and `!` comments, `\` continuations
 * and escapes, as java.util.Properties.load does. One deviation: unescaped trailing blanks of a
 * value are trimmed, so an invisible space cannot break a setting.
 */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    let line = lines[i]!.replace(LEADING_BLANKS, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // An odd number of trailing backslashes continues the line; at the end of the file the
    // backslash is dropped, as Java does, rather than left in the value.
    while (/(^|[^\\])(\\\\)*\\$/.test(line)) {
      line = line.slice(0, -1);
      if (i + 1 >= lines.length) break;
      line += lines[++i]!.replace(LEADING_BLANKS, '');
    }
    // The key ends at the first unescaped `=`, `:` or blank; the key may be empty (`=value`).
    const match = /^((?:\\.|[^=:\s\\])*)[ \t\f]*[=:]?[ \t\f]*(.*)$/s.exec(line)!;
    result.set(unescape(match[1]!, lineNumber), unescape(trimEnd(match[2]!), lineNumber));
  }
  return result;
}

/** Drops trailing blanks, except one escaped by a backslash (`x\ `). */
function trimEnd(raw: string): string {
  let end = raw.length;
  while (end > 0 && ' \t\f'.includes(raw[end - 1]!)) end--;
  if (end === raw.length) return raw;
  let slashes = 0;
  while (end - slashes > 0 && raw[end - slashes - 1] === '\\') slashes++;
  return raw.slice(0, slashes % 2 === 1 ? end + 1 : end);
}

function unescape(text: string, lineNumber: number): string {
  return text.replace(/\\(u[0-9a-fA-F]{0,4}|[^])/g, (_, ch: string) => {
    if (ch[0] === 'u') {
      if (ch.length !== 5) throw new Error(`line ${lineNumber}: malformed \\uxxxx escape`);
      return String.fromCharCode(parseInt(ch.slice(1), 16));
    }
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[ch] ?? ch;
  });
}
