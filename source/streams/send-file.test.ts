// sendFileRange over a real HTTP connection: exact ranges, two buffers reused for any length,
// and failures (client gone, file shorter than the range) reported, never hung on.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, get, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { sendFileRange } from './send-file';

const dir = mkdtempSync(join(tmpdir(), 'sluice-send-'));
const path = join(dir, 'data');
const data = randomBytes(3 * 1024 * 1024 + 5);
writeFileSync(path, data);

/** Serves one request with `send`; returns what the client received and how the send ended. */
async function exchange(
  send: (res: ServerResponse) => Promise<void>,
  client: (body: Buffer[], abort: () => void) => void = () => undefined,
) {
  let outcome: Promise<Error | undefined> = Promise.resolve(undefined);
  const server = createServer((_req, res) => {
    outcome = send(res).then(
      () => undefined,
      (e: unknown) => {
        res.destroy();
        return e as Error;
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const received: Buffer[] = [];
  await new Promise<void>((resolve) => {
    const req = get({ host: '127.0.0.1', port, agent: false }, (res) => {
      res.on('data', (d: Buffer) => {
        received.push(d);
        client(received, () => req.destroy());
      });
      res.on('end', resolve);
      res.on('error', () => resolve());
      res.on('close', resolve);
    });
    req.on('error', () => resolve());
  });
  const error = await outcome;
  server.close();
  return { body: Buffer.concat(received), error };
}

t.test('whole files and ranges arrive exactly', async (t) => {
  for (const [start, length] of [
    [0, data.length],
    [1, 10],
    [524_287, 524_290],
    [data.length - 1, 1],
  ] as const) {
    const handle = await open(path);
    const { body, error } = await exchange((res) => sendFileRange(handle, start, length, res));
    await handle.close();
    t.equal(error, undefined, `range ${start}+${length} sent`);
    t.ok(body.equals(data.subarray(start, start + length)), `range ${start}+${length} has the right bytes`);
  }
});

t.test('a client that goes away fails the send instead of hanging it', async (t) => {
  const handle = await open(path);
  const { error } = await exchange(
    (res) => sendFileRange(handle, 0, data.length, res),
    (received, abort) => {
      if (received.length === 1) abort();
    },
  );
  await handle.close();
  t.ok(error instanceof Error, `the send failed: ${error?.message}`);
});

t.test('a file shorter than the range fails the send', async (t) => {
  const short = join(dir, 'short');
  writeFileSync(short, data.subarray(0, 1000));
  const handle = await open(short);
  truncateSync(short, 500);
  const { error } = await exchange((res) => sendFileRange(handle, 0, 1000, res));
  await handle.close();
  t.match(error?.message, /truncated/);
});
