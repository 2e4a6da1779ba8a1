// File-descriptor exhaustion: sluice under `ulimit -n 64`. Requests beyond the limit get 503
// SlowDown (or a refused connection), never a 500 or a crash, and the server recovers.
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { commandExists, s3, tempDir } from '../lib/harness';
import { sleep, startWrapped } from './lib';

interface Held {
  socket: Socket;
  response: string;
}

function holdPut(port: number, key: string): Promise<Held> {
  return new Promise((resolve) => {
    const held: Held = { socket: connect(port, '127.0.0.1'), response: '' };
    held.socket.on('data', (d: Buffer) => (held.response += d.toString()));
    held.socket.on('error', () => undefined);
    held.socket.on('connect', () => {
      held.socket.write(`PUT /fds/${key} HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n`);
      held.socket.write(Buffer.alloc(4096, 'h'));
      resolve(held);
    });
    held.socket.on('close', () => resolve(held));
  });
}

function openIdle(port: number): Promise<Held> {
  return new Promise((resolve) => {
    const held: Held = { socket: connect(port, '127.0.0.1'), response: '' };
    held.socket.on('data', (d: Buffer) => (held.response += d.toString()));
    held.socket.on('error', () => undefined);
    held.socket.on('connect', () => resolve(held));
  });
}

t.test('descriptor exhaustion', { skip: commandExists('prlimit') ? false : 'prlimit (util-linux) is not installed' }, async (t) => {
  const server = await startWrapped(tempDir(), ['prlimit', '--nofile=64:64']);
  t.teardown(() => server.stop());
  t.equal((await s3(server, 'PUT', '/fds')).status, 200);
  t.equal((await s3(server, 'PUT', '/fds/obj', { body: 'readable' })).status, 200);

  // Connections opened before the descriptors run out: their requests must be answered 503
  // (a connection that arrives after may only be refused, by the kernel or by libuv).
  const early = await Promise.all([0, 1, 2].map(() => openIdle(server.port)));
  const held: Held[] = [];
  for (let i = 0; i < 60; i++) held.push(await holdPut(server.port, `held-${i}`));
  await sleep(500);
  for (const socket of early) socket.socket.write('GET /fds/obj HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(500);
  const statuses = [...held, ...early].map((h) => /^HTTP\/1\.1 (\d{3})/.exec(h.response)?.[1]).filter((s): s is string => s !== undefined);
  t.ok(statuses.includes('503'), `requests beyond the limit were answered 503 (${statuses.length} answered while held)`);
  t.ok([...held, ...early].some((h) => /<Code>SlowDown<\/Code>/.test(h.response)), 'with the S3 code SlowDown');
  t.notOk(statuses.some((s) => s.startsWith('5') && s !== '503'), 'and never another 5xx');

  for (const h of [...held, ...early]) h.socket.destroy();
  await sleep(500);
  t.equal((await s3(server, 'GET', '/fds/obj')).text, 'readable', 'reads work again once descriptors are free');
  t.equal((await s3(server, 'PUT', '/fds/after', { body: 'writable' })).status, 200, 'writes work again');
  t.equal(server.process.exitCode, null, 'the server never crashed');
  t.notMatch(server.output(), /InternalError/, 'no internal error was logged');
});
