// sluice's configuration: one typed object built from CLI flags, SLUICE_* environment
// variables and a properties file that accepts Alluxio's property names.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { LOG_LEVELS, type LogLevel } from '../log';
import { parseProperties } from './properties';
import { parseDuration, parseSize } from './units';
import { asBoolean, asChoice, asInteger, asUmask, lowerCase, withUnits, type Value } from './values';

export const WRITE_TYPES = ['MUST_CACHE', 'CACHE_THROUGH', 'ASYNC_THROUGH', 'THROUGH'] as const;
export const DELETE_TYPES = ['ALLUXIO_AND_UFS', 'ALLUXIO_ONLY'] as const;
export type WriteType = (typeof WRITE_TYPES)[number];
export type DeleteType = (typeof DELETE_TYPES)[number];
export const ACCESS_LOG_FORMATS = ['text', 'json', 'off'] as const;
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];

export interface MultipartConfig {
  /** Idle uploads older than this are aborted by the cleaner. */
  timeoutMs: number;
  cleanerRetryCount: number;
  cleanerRetryDelayMs: number;
  cleanerPoolSize: number;
  /** Whitespace is sent this often while a CompleteMultipartUpload assembles the object. */
  keepAliveIntervalMs: number;
  /** At most this many CompleteMultipartUpload run at once. */
  completePoolSize: number;
}

export interface Config {
  root: string;
  host: string;
  port: number;
  /** The Alluxio base path; requests are served under it and at `/`. */
  basePath: string;
  /** Whose answer wherever the Alluxio document and S3 differ (README, "Alluxio or S3"). */
  compat: Compat;
  /** Alluxio semantics: every sub-directory is listed as a 0-byte `dir/` object (default: --compat alluxio). */
  listDirectories: boolean;
  /** Alluxio's authorization: owners and mode bits are checked (false: every named user may do everything). */
  permissions: { enabled: boolean; umask: number };
  /** Bound of the x-amz-meta-* headers in bytes; 0 means none. */
  metadataMaxSize: number;
  taggingRestrictions: boolean;
  writeType: WriteType;
  deleteType: DeleteType;
  /** The cache tier: its folder, and its size (undefined: sized from the free space at start). */
  cache: { dir: string; sizeBytes: number | undefined } | undefined;
  multipart: MultipartConfig;
  region: string;
  /** One line per request on stdout: the text format, JSON objects, or none. */
  accessLog: AccessLogFormat;
  /** The threshold of sluice's own messages. */
  logLevel: LogLevel;
  /** fsync file and directory before a write is acknowledged. */
  fsync: boolean;
  /** SIMPLE (Alluxio's: the access key names the user) or SigV4 verified against `credentials`. */
  auth: AuthMode;
  /** The credentials file of SigV4 mode: `ACCESS_KEY SECRET_KEY USER [admin]` per line. */
  credentials: string | undefined;
  /** PEM certificate and key: serve HTTPS instead of HTTP. */
  tls: { cert: string; key: string } | undefined;
  /** A client must have sent its request headers within this long (slow-header clients). */
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Processes serving (node:cluster); they share nothing but ROOT. 1: a single process, no cluster. */
  workers: number;
  /** On SIGTERM/SIGINT, requests in flight get this long to finish before they are aborted. */
  shutdownTimeoutMs: number;
  /** Health, readiness and metrics on this port only (of --host), not on the S3 port. */
  adminPort: number | undefined;
}

export const AUTH_MODES = ['simple', 'sigv4'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export const COMPAT_MODES = ['alluxio', 's3'] as const;
export type Compat = (typeof COMPAT_MODES)[number];

/**
 * Every option: its CLI flag (also SLUICE_<FLAG> in the environment), the Alluxio property that
 * sets it in a --conf file, its default and its help text. The CLI and the docs read this table.
 */
export const OPTIONS = {
  root: { alluxio: undefined, type: 'string', default: './data', describe: 'Directory served: its top-level directories are the buckets' },
  host: { alluxio: 'alluxio.proxy.web.hostname', type: 'string', default: '127.0.0.1', describe: 'Address to listen on' },
  port: { alluxio: 'alluxio.proxy.web.port', type: 'number', default: 39999, describe: 'Port to listen on' },
  'base-path': { alluxio: undefined, type: 'string', default: '/api/v1/s3', describe: 'Path prefix served besides /, as Alluxio does' },
  compat: {
    alluxio: undefined,
    type: 'string',
    default: 'alluxio',
    describe: "alluxio: the Alluxio document's answers; s3: S3's, wherever the two differ (listings, tagging, permissions)",
  },
  'list-directories': {
    alluxio: undefined,
    type: 'boolean',
    default: true,
    describe: 'List every sub-directory as a 0-byte "dir/" object (Alluxio); false gives S3 semantics (the default under --compat s3)',
  },
  'metadata-max-size': {
    alluxio: 'alluxio.proxy.s3.header.metadata.max.size',
    type: 'string',
    default: '2KB',
    describe: 'Largest total of x-amz-meta-* headers (0: no limit)',
  },
  'tagging-restrictions': {
    alluxio: 'alluxio.proxy.s3.tagging.restrictions.enabled',
    type: 'boolean',
    default: true,
    describe: 'Enforce S3 tag limits: 10 tags, keys up to 128 and values up to 256 characters',
  },
  'write-type': {
    alluxio: 'alluxio.proxy.s3.writetype',
    type: 'string',
    default: 'CACHE_THROUGH',
    describe:
      `Which tiers a write reaches (${WRITE_TYPES.join(', ')}); without --cache-dir, THROUGH and CACHE_THROUGH ` +
      'write ROOT and the others are refused',
  },
  'delete-type': {
    alluxio: 'alluxio.proxy.s3.deletetype',
    type: 'string',
    default: 'ALLUXIO_AND_UFS',
    describe: `Where a delete reaches (${DELETE_TYPES.join(', ')}): the cache and ROOT, or the cache only`,
  },
  'cache-dir': {
    alluxio: 'alluxio.worker.tieredstore.level0.dirs.path',
    type: 'string',
    default: '',
    describe: 'A folder on a fast local disk for the cache tier (ROOT is then the under store); shared by every process of the host',
  },
  'cache-size': {
    alluxio: 'alluxio.worker.tieredstore.level0.dirs.quota',
    type: 'string',
    default: '',
    describe: 'Bytes the cache may hold, like 10GB (default: 80% of the free space of the cache dir\'s filesystem at start)',
  },
  'multipart-timeout': {
    alluxio: 'alluxio.proxy.s3.multipart.upload.timeout',
    type: 'string',
    default: '10min',
    describe: 'Multipart uploads idle this long are aborted',
  },
  'multipart-cleaner-retry-count': {
    alluxio: 'alluxio.proxy.s3.multipart.upload.cleaner.retry.count',
    type: 'number',
    default: 3,
    describe: 'Tries of the cleaner to abort an idle upload',
  },
  'multipart-cleaner-retry-delay': {
    alluxio: 'alluxio.proxy.s3.multipart.upload.cleaner.retry.delay',
    type: 'string',
    default: '10sec',
    describe: "Delay between the cleaner's tries",
  },
  'multipart-cleaner-pool-size': {
    alluxio: 'alluxio.proxy.s3.multipart.upload.cleaner.pool.size',
    type: 'number',
    default: 1,
    describe: 'Uploads the cleaner aborts at once',
  },
  'complete-keepalive-interval': {
    alluxio: 'alluxio.proxy.s3.complete.multipart.upload.keepalive.time.interval',
    type: 'string',
    default: '30sec',
    describe: 'Whitespace is sent this often while CompleteMultipartUpload runs',
  },
  'complete-pool-size': {
    alluxio: 'alluxio.proxy.s3.complete.multipart.upload.pool.size',
    type: 'number',
    default: 20,
    describe: 'CompleteMultipartUpload requests that run at once',
  },
  'multipart-tmp-suffix': {
    alluxio: 'alluxio.proxy.s3.multipart.temporary.dir.suffix',
    type: 'string',
    default: '_s3_multipart_tmp',
    describe: 'Accepted for compatibility and ignored: sluice keeps the parts of uploads under .sluice/uploads',
  },
  region: { alluxio: undefined, type: 'string', default: 'us-east-1', describe: 'Region reported by GetBucketLocation' },
  'access-log': {
    alluxio: undefined,
    type: 'string',
    default: 'text',
    describe: 'One line per request on stdout: text, json or off (true and false mean text and off)',
  },
  'log-level': {
    alluxio: undefined,
    type: 'string',
    default: 'info',
    describe: `Threshold of sluice's own messages (${LOG_LEVELS.join(', ')}); re-read from --conf on SIGHUP`,
  },
  fsync: {
    alluxio: undefined,
    type: 'boolean',
    default: false,
    describe: 'fsync each file and its directory before a write is acknowledged',
  },
  auth: {
    alluxio: undefined,
    type: 'string',
    default: 'simple',
    describe: 'simple: the access key names the user, nothing is verified (Alluxio); sigv4: AWS Signature V4 against --credentials',
  },
  credentials: {
    alluxio: undefined,
    type: 'string',
    default: '',
    describe: 'Credentials file for --auth sigv4, one "ACCESS_KEY SECRET_KEY USER [admin]" per line; re-read on SIGHUP',
  },
  permissions: {
    alluxio: 'alluxio.security.authorization.permission.enabled',
    type: 'boolean',
    default: true,
    describe: 'Check owners and mode bits of buckets and objects, as Alluxio does; false: every named user may do everything',
  },
  umask: {
    alluxio: 'alluxio.security.authorization.permission.umask',
    type: 'string',
    default: '022',
    describe: 'Bits new buckets and objects do not get (SIMPLE mode, --compat alluxio): 022 lets other users read, not write',
  },
  'tls-cert': { alluxio: undefined, type: 'string', default: '', describe: 'PEM certificate: serve HTTPS (with --tls-key)' },
  'tls-key': { alluxio: undefined, type: 'string', default: '', describe: 'PEM private key of --tls-cert' },
  workers: {
    alluxio: undefined,
    type: 'string',
    default: '1',
    describe: 'Processes serving the port: 1 (one process), N (node:cluster workers and a primary), or auto (one per core)',
  },
  'shutdown-timeout': {
    alluxio: undefined,
    type: 'string',
    default: '30sec',
    describe: 'On SIGTERM or SIGINT, requests in flight may finish for this long; then they are aborted',
  },
  'admin-port': {
    alluxio: undefined,
    type: 'string',
    default: '',
    describe: 'Serve /-/health, /-/ready and /-/metrics on this port (of --host) only, instead of on the S3 port',
  },
  'headers-timeout': {
    alluxio: undefined,
    type: 'string',
    default: '60sec',
    describe: 'Connections that have not sent their whole request headers within this long are closed',
  },
  'body-timeout': {
    alluxio: undefined,
    type: 'string',
    default: '20sec',
    describe: 'A request body that sends nothing for this long (while sluice is ready for it) fails with RequestTimeout',
  },
} as const;

export type OptionName = keyof typeof OPTIONS;
export type RawOptions = { [K in OptionName]?: string | number | boolean };

/** Where each option was set, as the user wrote it (`--port`, `SLUICE_PORT`, a property name): errors name it. */
export type OptionLabels = { [K in OptionName]?: string };

/**
 * Reads a --conf properties file into option values; unknown keys are an error, so typos show.
 * `labels` (if given) learns the property name that set each option.
 */
export function readPropertiesFile(path: string, labels?: OptionLabels): RawOptions {
  let properties: Map<string, string>;
  try {
    properties = parseProperties(readFileSync(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== undefined) throw e;
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const byAlluxioName = new Map<string, OptionName>();
  for (const [name, option] of Object.entries(OPTIONS) as [OptionName, (typeof OPTIONS)[OptionName]][]) {
    if (option.alluxio) byAlluxioName.set(option.alluxio, name);
  }
  const result: RawOptions = {};
  for (const [key, value] of properties) {
    // hasOwn, not `in`: `toString` or `__proto__` are no options.
    const name = byAlluxioName.get(key) ?? (Object.hasOwn(OPTIONS, key) ? (key as OptionName) : undefined);
    if (name) {
      result[name] = value;
      if (labels) labels[name] = `${key} (in ${path})`;
    } else if (!key.startsWith('alluxio.')) throw new Error(`${path}: unknown property "${key}"`);
    // Other alluxio.* properties concern Alluxio's own servers; they are accepted and ignored.
  }
  return result;
}

/** `text`, `json` or `off`; the boolean spellings of before (and a bare `--access-log`) still work. */
function asAccessLog(value: Value, label: string): AccessLogFormat {
  const text = String(value).trim().toLowerCase();
  if (text === '' || value === true) return 'text';
  if ((ACCESS_LOG_FORMATS as readonly string[]).includes(text)) return text as AccessLogFormat;
  try {
    return asBoolean(value, label) ? 'text' : 'off';
  } catch {
    throw new Error(`${label}: expected one of ${ACCESS_LOG_FORMATS.join(', ')} (or true, false), got "${value}"`);
  }
}

/** A count of processes, or `auto` (one per core); 0 meant one per core before and still does. */
function asWorkers(value: Value, label: string): number {
  if (String(value).trim().toLowerCase() === 'auto') return availableParallelism();
  try {
    return asInteger(value, label, 0, 256) || availableParallelism();
  } catch {
    throw new Error(`${label}: expected auto or an integer from 1 to 256, got "${value}"`);
  }
}

/**
 * Builds the typed configuration; missing values take their defaults; bad values throw, naming the
 * option as `labels` says it was written (`--flag` when it does not say).
 */
export function buildConfig(raw: RawOptions, labels: OptionLabels = {}): Config {
  const get = <K extends OptionName>(name: K): Value => raw[name] ?? OPTIONS[name].default;
  const label = (name: OptionName): string => labels[name] ?? `--${name}`;
  const integer = (name: OptionName, min: number, max?: number): number => asInteger(get(name), label(name), min, max);
  const boolean = (name: OptionName): boolean => asBoolean(get(name), label(name));
  const duration = (name: OptionName): number => withUnits(label(name), () => parseDuration(String(get(name))));
  const adminPort = String(get('admin-port')).trim();
  let basePath = String(get('base-path')).trim();
  if (!basePath.startsWith('/')) basePath = `/${basePath}`;
  basePath = basePath.replace(/\/+$/, '');
  const compat = asChoice(get('compat'), label('compat'), COMPAT_MODES, lowerCase);
  return {
    root: String(get('root')),
    host: String(get('host')),
    port: integer('port', 0, 65535),
    basePath,
    compat,
    // An explicit --list-directories wins; otherwise it follows --compat.
    listDirectories: raw['list-directories'] === undefined ? compat === 'alluxio' : boolean('list-directories'),
    permissions: { enabled: boolean('permissions'), umask: asUmask(get('umask'), label('umask')) },
    metadataMaxSize: withUnits(label('metadata-max-size'), () => parseSize(String(get('metadata-max-size')))),
    taggingRestrictions: boolean('tagging-restrictions'),
    writeType: asChoice(get('write-type'), label('write-type'), WRITE_TYPES),
    deleteType: asChoice(get('delete-type'), label('delete-type'), DELETE_TYPES),
    cache: cacheOf(get, label),
    multipart: {
      timeoutMs: duration('multipart-timeout'),
      cleanerRetryCount: integer('multipart-cleaner-retry-count', 0),
      cleanerRetryDelayMs: duration('multipart-cleaner-retry-delay'),
      cleanerPoolSize: integer('multipart-cleaner-pool-size', 1),
      keepAliveIntervalMs: duration('complete-keepalive-interval'),
      completePoolSize: integer('complete-pool-size', 1),
      // multipart-tmp-suffix is accepted and ignored: parts live under .sluice/uploads.
    },
    region: String(get('region')),
    accessLog: asAccessLog(get('access-log'), label('access-log')),
    logLevel: asChoice(get('log-level'), label('log-level'), LOG_LEVELS, lowerCase),
    fsync: boolean('fsync'),
    ...authAndTls(get, label),
    headersTimeoutMs: duration('headers-timeout'),
    bodyTimeoutMs: duration('body-timeout'),
    workers: asWorkers(get('workers'), label('workers')),
    shutdownTimeoutMs: duration('shutdown-timeout'),
    adminPort: adminPort === '' ? undefined : asInteger(adminPort, label('admin-port'), 0, 65535),
  };
}

function cacheOf(get: (name: OptionName) => Value, label: (name: OptionName) => string): Config['cache'] {
  const dir = String(get('cache-dir')).trim();
  const size = String(get('cache-size')).trim();
  if (dir === '') {
    const writeType = asChoice(get('write-type'), label('write-type'), WRITE_TYPES);
    if (writeType === 'MUST_CACHE' || writeType === 'ASYNC_THROUGH') {
      throw new Error(`${label('write-type')} ${writeType} writes to the cache tier: it needs --cache-dir DIR (and --cache-size SIZE)`);
    }
    return undefined;
  }
  const sizeBytes = size === '' ? undefined : withUnits(label('cache-size'), () => parseSize(size));
  if (sizeBytes === 0) throw new Error(`${label('cache-size')}: must be more than 0`);
  return { dir, sizeBytes };
}

function authAndTls(get: (name: OptionName) => Value, label: (name: OptionName) => string): Pick<Config, 'auth' | 'credentials' | 'tls'> {
  const auth = asChoice(get('auth'), label('auth'), AUTH_MODES, lowerCase);
  const credentials = String(get('credentials')).trim();
  if (auth === 'sigv4' && credentials === '') throw new Error('--auth sigv4 needs --credentials FILE');
  const cert = String(get('tls-cert')).trim();
  const key = String(get('tls-key')).trim();
  if ((cert === '') !== (key === '')) throw new Error('--tls-cert and --tls-key go together');
  return {
    auth,
    credentials: credentials === '' ? undefined : credentials,
    tls: cert === '' ? undefined : { cert, key },
  };
}
