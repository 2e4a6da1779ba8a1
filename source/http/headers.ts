// Reading request headers: one string per name, whatever Node made of a repeated header.
import type { IncomingHttpHeaders } from 'node:http';

/** The header's value; a repeated header that Node keeps as a list is joined with commas. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
