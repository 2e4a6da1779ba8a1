// The credentials file of `--auth sigv4`: one user per line,
//   ACCESS_KEY  SECRET_KEY  USER  [admin]
// `#` starts a comment. Re-read on SIGHUP, so keys can change without a restart.
import { readFileSync } from 'node:fs';

export interface Credential {
  accessKey: string;
  secretKey: string;
  user: string;
  admin: boolean;
}

export function parseCredentials(text: string, source = 'credentials'): Map<string, Credential> {
  const result = new Map<string, Credential>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const fields = line.split(/\s+/);
    const [accessKey, secretKey, user, flag] = fields;
    if (fields.length < 3 || fields.length > 4 || (flag !== undefined && flag !== 'admin')) {
      throw new Error(`${source}:${index + 1}: expected "ACCESS_KEY SECRET_KEY USER [admin]"`);
    }
    if (result.has(accessKey!)) throw new Error(`${source}:${index + 1}: access key ${accessKey} appears twice`);
    result.set(accessKey!, { accessKey: accessKey!, secretKey: secretKey!, user: user!, admin: flag === 'admin' });
  });
  return result;
}

/** The credentials of a file, kept current: `reload()` re-reads it (a bad file keeps the old keys). */
export class CredentialStore {
  private keys: Map<string, Credential>;

  constructor(private readonly path: string) {
    this.keys = parseCredentials(readFileSync(path, 'utf8'), path);
  }

  get(accessKey: string): Credential | undefined {
    return this.keys.get(accessKey);
  }

  reload(): void {
    this.keys = parseCredentials(readFileSync(this.path, 'utf8'), this.path);
  }
}
