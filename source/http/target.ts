// The request target, split the safe way: the raw path is cut at `/` first and only then
// percent-decoded, so no encoding (`%2e%2e`, `%2F`) can re-shape the path; `new URL()` would
// normalize `/b1/%2e%2e/b2/k` into `/b2/k`.
import { S3Error } from './errors';

export interface RequestTarget {
  /** The raw path as sent, for logs and error Resources. */
  rawPath: string;
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidURI', `Couldn't parse the specified URI: bad percent-encoding in "${text.slice(0, 64)}".`);
  }
}

export function parseTarget(url: string, basePath: string): RequestTarget {
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
  const query = new URLSearchParams(questionMark >= 0 ? url.slice(questionMark + 1) : '');

  let path = rawPath;
  if (basePath !== '' && (path === basePath || path.startsWith(`${basePath}/`))) path = path.slice(basePath.length);
  // `/bucket/key/with/slashes`: the first segment is the bucket, the rest (decoded) the key.
  const body = path.replace(/^\//, '');
  if (body === '') return { rawPath, bucket: undefined, key: undefined, query };
  const slash = body.indexOf('/');
  const bucket = decode(slash >= 0 ? body.slice(0, slash) : body);
  const rawKey = slash >= 0 ? body.slice(slash + 1) : '';
  return { rawPath, bucket, key: rawKey === '' ? undefined : decode(rawKey), query };
}
