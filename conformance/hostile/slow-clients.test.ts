// Slow clients: a connection that never finishes its headers is closed after --headers-timeout,
// with a RequestTimeout, while well-behaved clients are served meanwhile.
import { connect } from 'node:net';
import t from 'tap';
import { s3, startSluice } from '../lib/harness';

t.test('headers that never finish', async (t) => {
  const server = await startSluice({ args: ['--headers-timeout', '1500ms', '--access-log=false'] });
  t.teardown(() => server.stop());
  const started = Date.now();
  const outcome = await new Promise<{ closedAfterMs: number; response: string }>((resolve) => {
    let response = '';
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      // One byte a while, never the blank line that ends the headers.
      const drip = setInterval(() => socket.write('a'), 200);
      socket.on('close', () => clearInterval(drip));
    });
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.on('error', () => undefined);
    const giveUp = setTimeout(() => socket.destroy(), 15_000);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, response });
    });
  });
  t.ok(outcome.closedAfterMs < 6000, `the server closed the connection after ${outcome.closedAfterMs} ms`);
  t.ok(outcome.closedAfterMs >= 1400, 'not before the timeout');
  t.match(outcome.response, /^HTTP\/1\.1 408|RequestTimeout/, 'with a request timeout answer');
  t.equal((await s3(server, 'GET', '/')).status, 200, 'other clients are served');
});
