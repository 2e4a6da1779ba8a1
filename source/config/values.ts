// Option values as users write them (flags, SLUICE_* variables, properties): booleans, integers,
// choices, sizes and durations, each error naming the option as it was written.

export type Value = string | number | boolean;

export function asBoolean(value: Value, label: string): boolean {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  throw new Error(`${label}: expected true or false, got "${value}"`);
}

export function asInteger(value: Value, label: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  // Decimal digits only: Number() would read '' as 0 and accept '0x10' or '1e3'.
  const text = String(value).trim();
  const n = typeof value === 'number' ? value : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${label}: expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

export function asChoice<T extends string>(
  value: Value,
  label: string,
  choices: readonly T[],
  normalize = (s: string) => s.toUpperCase(),
): T {
  const text = normalize(String(value).trim());
  if (!(choices as readonly string[]).includes(text)) throw new Error(`${label}: expected one of ${choices.join(', ')}, got "${value}"`);
  return text as T;
}

export const lowerCase = (s: string): string => s.toLowerCase();

const UNIT_EXAMPLES: Record<string, string> = {
  size: 'a size such as 2KB, 64MB or 0',
  duration: 'a duration such as 500ms, 30sec or 10min',
};

export function withUnits<T>(label: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    const message = (e as Error).message;
    const kind = /^invalid (size|duration)/.exec(message)?.[1];
    throw new Error(`${label}: ${message}${kind ? ` (expected ${UNIT_EXAMPLES[kind]})` : ''}`);
  }
}

/** A umask as Alluxio writes it, in octal (`022`, `0027`): the permission bits new things do not get. */
export function asUmask(value: Value, label: string): number {
  const text = String(value).trim();
  if (!/^[0-7]{1,4}$/.test(text) || Number.parseInt(text, 8) > 0o777) {
    throw new Error(`${label}: expected an octal umask such as 022 or 077, got "${value}"`);
  }
  return Number.parseInt(text, 8);
}
