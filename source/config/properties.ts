// Java .properties files, so an Alluxio user's alluxio-site.properties keeps working.

/** Parses `key=value` / `key: value` / `key value` lines, `#` and `!` comments, `\` continuations. */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^\s+/, '');
    }
    const match = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line);
    const key = unescape(match ? match[1]! : line);
    const value = match ? unescape(match[2]!.replace(/\s+$/, '')) : '';
    result.set(key, value);
  }
  return result;
}

function unescape(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, ch: string) => {
    if (ch.length === 5) return String.fromCharCode(parseInt(ch.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[ch] ?? ch;
  });
}
