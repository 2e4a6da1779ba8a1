// Sizes and durations as Alluxio writes them in alluxio-site.properties.
import t from 'tap';
import { parseDuration, parseSize } from './units';

t.test('sizes use binary units', async (t) => {
  t.equal(parseSize('2KB'), 2048);
  t.equal(parseSize('2kb'), 2048);
  t.equal(parseSize('2K'), 2048);
  t.equal(parseSize('2KiB'), 2048);
  t.equal(parseSize('1.5MB'), 1572864);
  t.equal(parseSize('64MB'), 67108864);
  t.equal(parseSize('1GB'), 1073741824);
  t.equal(parseSize('1TB'), 1099511627776);
  t.equal(parseSize('1PB'), 1125899906842624);
  t.equal(parseSize('1024'), 1024);
  t.equal(parseSize('7B'), 7);
  t.equal(parseSize('0'), 0);
  t.equal(parseSize(' 3 KB '), 3072, 'blanks around and between are allowed');
  t.equal(parseSize(4096), 4096, 'a number is taken as bytes');
});

t.test('durations are milliseconds', async (t) => {
  t.equal(parseDuration('10min'), 600_000);
  t.equal(parseDuration('30sec'), 30_000);
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('1h'), 3_600_000);
  t.equal(parseDuration('2d'), 172_800_000);
  t.equal(parseDuration('5s'), 5000);
  t.equal(parseDuration('3m'), 180_000, '`m` is minutes for durations');
  t.equal(parseDuration('1.5sec'), 1500);
  t.equal(parseDuration('250'), 250, 'a bare number is milliseconds');
  t.equal(parseDuration('10 MIN'), 600_000);
});

t.test('bad sizes and durations throw, naming the text', async (t) => {
  for (const bad of ['', ' ', 'KB', '2XB', '-1KB', '1,5MB', '1e3', '0x10', '2 K B', '.5MB', '2KB2', 'NaN']) {
    t.throws(() => parseSize(bad), { message: `invalid size: "${bad}"` }, JSON.stringify(bad));
  }
  for (const bad of ['', '10minutes!', '10 parsecs', '-5s', 'min', '1..5s']) {
    t.throws(() => parseDuration(bad), { message: `invalid duration: "${bad}"` }, JSON.stringify(bad));
  }
});

t.test('values that are no count of bytes or milliseconds throw', async (t) => {
  t.throws(() => parseSize('99999999999999999999TB'), /invalid size/, 'beyond exact integers');
  t.throws(() => parseSize(-5), /invalid size/, 'negative number');
  t.throws(() => parseSize(Number.NaN), /invalid size/, 'NaN');
  t.throws(() => parseSize(1.5), /invalid size/, 'fractional number of bytes');
  t.throws(() => parseDuration(Number.POSITIVE_INFINITY), /invalid duration/, 'infinity');
});
