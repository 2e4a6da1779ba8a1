// pump: a chain of streams piped with every error reaching the caller and every stream destroyed.
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import t from 'tap';
import { pump } from './pump';

const dir = mkdtempSync(join(tmpdir(), 'sluice-pump-'));

t.test('bytes go through every stage into a file, which is closed when pump resolves', async (t) => {
  const source = join(dir, 'in');
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 'p');
  writeFileSync(source, data);
  const out = createWriteStream(join(dir, 'out'));
  await pump(createReadStream(source), new PassThrough(), out);
  t.ok(out.closed, 'the file is closed');
  t.ok(readFileSync(join(dir, 'out')).equals(data), 'the bytes arrived whole');
});

t.test('an error in the middle rejects with it and destroys every stream', async (t) => {
  const source = Readable.from((function* () {
    for (let i = 0; i < 1000; i++) yield Buffer.alloc(1024);
  })());
  let seen = 0;
  const failing = new Transform({
    transform(chunk: Buffer, _e, callback) {
      seen += chunk.length;
      callback(seen > 10_000 ? new Error('stage failed') : null, chunk);
    },
  });
  const sink = new PassThrough();
  sink.resume();
  await t.rejects(pump(source, failing, sink), /stage failed/);
  t.ok(source.destroyed && failing.destroyed && sink.destroyed, 'all destroyed');
});

t.test('a source that closes before its end is an error, not a success', async (t) => {
  const source = new PassThrough();
  const sink = new PassThrough();
  sink.resume();
  const pumping = pump(source, sink);
  source.write('some');
  source.destroy();
  await t.rejects(pumping, { code: 'ERR_STREAM_PREMATURE_CLOSE' });
});

t.test('a destination that fails rejects', async (t) => {
  const out = createWriteStream(join(dir, 'missing', 'out')); // its folder does not exist
  const failed = once(out, 'error').catch(() => undefined);
  await t.rejects(pump(Readable.from([Buffer.from('x')]), out), { code: 'ENOENT' });
  await failed;
});
