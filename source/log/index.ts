// sluice's own messages (not the access log), by level: errors and warnings on stderr, the rest
// on stdout, each line starting `sluice: `. `--log-level` sets the threshold; SIGHUP re-reads it.
// Imports nothing of sluice.

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let threshold = LOG_LEVELS.indexOf('info');

export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

export function logLevel(): LogLevel {
  return LOG_LEVELS[threshold]!;
}

/** True when messages of this level are printed (to skip building a costly one). */
export function logs(level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) <= threshold;
}

function write(level: LogLevel, message: string): void {
  if (!logs(level)) return;
  const stream = level === 'error' || level === 'warn' ? process.stderr : process.stdout;
  stream.write(`sluice: ${message}\n`);
}

export const log = {
  error: (message: string): void => write('error', message),
  warn: (message: string): void => write('warn', message),
  info: (message: string): void => write('info', message),
  debug: (message: string): void => write('debug', message),
};
