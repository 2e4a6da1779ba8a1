// Many clients PUT, DELETE, GET and LIST the same keys at once for a minute (SOAK_SECONDS): no
// 5xx, and every GET returns one complete version, its bytes matching its ETag.
import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import t from 'tap';
import { s3, startSluice } from '../lib/harness';
import { call, makeVersion, type Reply } from './lib';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CLIENTS = 16;
const KEYS = Array.from({ length: 6 }, (_, i) => `dir${i % 2}/key${i}`);

t.test(`concurrent PUT/DELETE/GET/LIST for ${SECONDS} s`, async (t) => {
  const server = await startSluice({ args: ['--access-log=false'] });
  t.teardown(() => server.stop());
  t.equal((await s3(server, 'PUT', '/soak', { user: null })).status, 200);
  const deadline = Date.now() + SECONDS * 1000;
  const counts = { PUT: 0, DELETE: 0, GET: 0, LIST: 0, torn: 0, serverErrors: 0, gets200: 0 };
  let version = 0;
  const problems: string[] = [];

  const client = async (id: number): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (Date.now() < deadline) {
        const key = KEYS[(id + version) % KEYS.length]!;
        const roll = Math.random();
        let reply: Reply;
        if (roll < 0.35) {
          reply = await call(server, agent, 'PUT', `/soak/${key}`, makeVersion(key, ++version));
          counts.PUT++;
        } else if (roll < 0.5) {
          reply = await call(server, agent, 'DELETE', `/soak/${key}`);
          counts.DELETE++;
        } else if (roll < 0.9) {
          reply = await call(server, agent, 'GET', `/soak/${key}`);
          counts.GET++;
          if (reply.status === 200) {
            counts.gets200++;
            const etag = String(reply.headers.etag).replace(/"/g, '');
            const head = reply.body.subarray(0, 64).toString('latin1').split('\n')[0]!;
            const [name, n, size] = head.split('#');
            const whole = name === key && Number(size) === reply.body.length && makeVersion(key, Number(n)).equals(reply.body);
            const matches = createHash('md5').update(reply.body).digest('hex') === etag;
            if (!whole || !matches) {
              counts.torn++;
              if (problems.length < 5) problems.push(`GET ${key}: ${reply.body.length} bytes, head "${head}", etag ${etag}`);
            }
          }
        } else {
          reply = await call(server, agent, 'GET', `/soak?list-type=2&prefix=dir${id % 2}/`);
          counts.LIST++;
        }
        if (reply.status >= 500) {
          counts.serverErrors++;
          if (problems.length < 5) problems.push(`${reply.status}: ${reply.body.toString().slice(0, 200)}`);
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  t.comment(JSON.stringify(counts));
  t.ok(counts.PUT > 50 && counts.gets200 > 50, 'the load really ran');
  const trace = /\[[0-9A-F]+\] .*\n(?:\s+at .*\n){0,8}/.exec(server.output())?.[0] ?? '';
  t.equal(counts.serverErrors, 0, `no 5xx ${problems.join(' | ')} ${trace}`);
  t.equal(counts.torn, 0, `every GET returned one whole version ${problems.join(' | ')}`);
  t.equal((await s3(server, 'GET', '/')).status, 200, 'the server still serves');
});
