// Query parameters several actions share: page sizes, encoding-type, part numbers.
import { invalidArgument } from '../errors';
import type { RequestContext } from './context';

/** S3's largest part number: an upload has at most this many parts. */
export const MAX_PARTS = 10000;

/** True for a decimal part number from 1 to MAX_PARTS. */
export function isPartNumber(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_PARTS;
}

/** The `partNumber` query parameter, which must be a part number. */
export function partNumberOf(ctx: RequestContext): number {
  const text = ctx.target.query.get('partNumber') ?? '';
  if (!isPartNumber(text)) {
    throw invalidArgument(`Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`, 'partNumber', text);
  }
  return Number(text);
}

/** A page size (max-keys, max-parts, max-uploads): absent means `fallback`, larger means `max`. */
export function pageSizeOf(ctx: RequestContext, name: string, fallback = 1000, max = 1000): number {
  const text = ctx.target.query.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, text);
  return Math.min(Number(text), max);
}

/**
 * encoding-type=url: every byte of the UTF-8 text outside the unreserved set (A-Z a-z 0-9 - . _ ~)
 * and `/` as %XX, so a space is %20 and a `+` is %2B, and every decoder reads it back alike.
 */
export function urlEncodeKey(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');
}

/** The encoding-type parameter: how keys and prefixes are written in a listing, and whether it was asked for. */
export function encodingOf(ctx: RequestContext): { encode: (text: string) => string; encoded: boolean } {
  const type = ctx.target.query.get('encoding-type');
  if (type === null || type === '') return { encode: (text) => text, encoded: false };
  if (type.toLowerCase() !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type');
  return { encode: urlEncodeKey, encoded: true };
}

/** Query parameters whose value is text (absent is empty). */
export function queryText(ctx: RequestContext, name: string): string {
  return ctx.target.query.get(name) ?? '';
}
