// Sizes and durations written the way Alluxio writes them: `2KB`, `64MB`, `10min`, `30sec`.

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
  p: 1024 ** 5, pb: 1024 ** 5, pib: 1024 ** 5,
};

const DURATION_UNITS: Record<string, number> = {
  '': 1, ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

function parseWithUnits(text: string | number, units: Record<string, number>, what: string): number {
  // A count of bytes or milliseconds: a whole, non-negative, exact number (no NaN, no 1e32).
  const valid = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`invalid ${what}: "${text}"`);
    return n;
  };
  if (typeof text === 'number') return valid(text);
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = match ? units[match[2]!.toLowerCase()] : undefined;
  if (!match || factor === undefined) throw new Error(`invalid ${what}: "${text}"`);
  return valid(Math.round(Number(match[1]) * factor));
}

/** Bytes from `2KB`, `1.5MB`, `1024` (binary units, as Alluxio reads them). */
export function parseSize(text: string | number): number {
  return parseWithUnits(text, SIZE_UNITS, 'size');
}

/** Milliseconds from `10min`, `30sec`, `500ms`, `1h`; a bare number is milliseconds. */
export function parseDuration(text: string | number): number {
  return parseWithUnits(text, DURATION_UNITS, 'duration');
}
