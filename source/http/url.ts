// The request target, split the safe way: the path is kept raw (as sent, for signatures and
// logs) and the query parsed. Callers cut the raw path at `/` first and only then percent-decode
// each segment, so no encoding (`%2e%2e`, `%2F`) can re-shape it; `new URL()` would normalize
// `/b1/%2e%2e/b2/k` into `/b2/k`.
import { S3Error } from '../errors';

export interface RequestUrl {
  /** The path as sent, before any decoding. */
  rawPath: string;
  /** The query as sent, without `?`. */
  rawQuery: string;
  query: URLSearchParams;
}

export function splitUrl(url: string): RequestUrl {
  if (!url.startsWith('/')) {
    // Absolute-form targets (`http://host/path`) are allowed by HTTP/1.1.
    const match = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(url);
    if (!match) throw new S3Error('InvalidURI');
    // `http://host` and `http://host?query` have an empty path: it is `/`.
    url = match[1]!.startsWith('/') ? match[1]! : `/${match[1]!}`;
  }
  const hash = url.indexOf('#');
  if (hash >= 0) url = url.slice(0, hash);
  const questionMark = url.indexOf('?');
  const rawPath = questionMark >= 0 ? url.slice(0, questionMark) : url;
  const rawQuery = questionMark >= 0 ? url.slice(questionMark + 1) : '';
  return { rawPath, rawQuery, query: new URLSearchParams(rawQuery) };
}

/** Percent-decodes one path segment; bad encoding is InvalidURI. */
export function decodeSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidURI', `Couldn't parse the specified URI: bad percent-encoding in "${text.slice(0, 64)}".`);
  }
}
