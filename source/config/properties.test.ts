// Java .properties syntax, as java.util.Properties.load reads it.
import t from 'tap';
import { parseProperties } from './properties';

const parse = (text: string): [string, string][] => [...parseProperties(text)];

t.test('separators: =, : and whitespace', async (t) => {
  t.same(parse('a=1\nb:2\nc 3\nd\t4\ne = 5\nf : 6\ng   7\n'), [
    ['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['e', '5'], ['f', '6'], ['g', '7'],
  ]);
  t.same(parse('key = = value'), [['key', '= value']], 'only the first separator counts');
  t.same(parse('key  =value'), [['key', 'value']], 'whitespace then = is one separator');
  t.same(parse('key value=x:y'), [['key', 'value=x:y']], 'whitespace separator: = and : stay in the value');
  t.same(parse('url=http://host:39999/a'), [['url', 'http://host:39999/a']]);
  t.same(parse('lonely'), [['lonely', '']], 'a key without value');
  t.same(parse('empty='), [['empty', '']]);
  t.same(parse('=value'), [['', 'value']], 'an empty key');
  t.same(parse(':value'), [['', 'value']]);
});

t.test('comments and blank lines', async (t) => {
  t.same(parse('# comment\n! also a comment\n   # indented comment\n\n   \na=1\n#b=2\n'), [['a', '1']]);
  t.same(parse('a=1 # not a comment'), [['a', '1 # not a comment']], '# inside a value is data');
  t.same(parse('# comment ending in backslash \\\na=1'), [['a', '1']], 'a comment line never continues');
});

t.test('line ends: \\n, \\r\\n and \\r', async (t) => {
  t.same(parse('a=1\r\nb=2\rc=3\nd=4'), [['a', '1'], ['b', '2'], ['c', '3'], ['d', '4']]);
});

t.test('leading whitespace is dropped, trailing unescaped whitespace trimmed', async (t) => {
  t.same(parse('   a = one two  \t'), [['a', 'one two']]);
  t.same(parse('a=x\\ '), [['a', 'x ']], 'an escaped trailing space is kept');
  t.same(parse('a=x\\ \\ '), [['a', 'x  ']]);
  t.same(parse('a=\\ x'), [['a', ' x']], 'an escaped leading space is kept');
});

t.test('continuations', async (t) => {
  t.same(parse('a=one, \\\n    two, \\\n\tthree\nb=2'), [['a', 'one, two, three'], ['b', '2']]);
  t.same(parse('a=x\\\\\nb=2'), [['a', 'x\\'], ['b', '2']], 'an even number of backslashes is no continuation');
  t.same(parse('a=x\\\\\\\nmore'), [['a', 'x\\more']], 'an odd number is');
  t.same(parse('a=x\\\n# not a comment'), [['a', 'x# not a comment']], 'a continued line is never a comment');
  t.same(parse('a=x\\'), [['a', 'x']], 'a backslash at the end of the file is dropped');
  t.same(parse('a=x\\\n'), [['a', 'x']]);
  t.same(parse('long\\\n  key=v'), [['longkey', 'v']], 'keys continue too');
});

t.test('escapes', async (t) => {
  t.same(parse('a=tab\\there\\nnew\\rret\\fform'), [['a', 'tab\there\nnew\rret\fform']]);
  t.same(parse('a=\\u00e9t\\u00C9'), [['a', 'étÉ']]);
  t.same(parse('a=\\q\\z\\\\'), [['a', 'qz\\']], 'an unknown escape is the character itself');
  t.same(parse('my\\ key=v'), [['my key', 'v']], 'escaped space in a key');
  t.same(parse('a\\=b\\:c=d'), [['a=b:c', 'd']], 'escaped separators in a key');
  t.same(parse('\\#notcomment=1'), [['#notcomment', '1']]);
  t.same(parse('k=caf\u00e9 \u4e2d'), [['k', 'caf\u00e9 \u4e2d']], 'UTF-8 text passes through');
  t.throws(() => parse('a=\\uZZ12'), /\\uxxxx/, 'a malformed \\u escape is an error, as in Java');
  t.throws(() => parse('a=\\u12'), /\\uxxxx/);
});

t.test('a later definition wins', async (t) => {
  t.same(parse('a=1\na=2'), [['a', '2']]);
});
