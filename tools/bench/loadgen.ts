// A keep-alive HTTP/1.1 load generator on raw sockets, run as its own process(es) where wrk is not
// installed or cannot do the request (wrk waits for a body after HEAD).
// `node loadgen.js '<LoadSpec json>'` prints `BENCH {requests, durationUs, errors, p50Us, p99Us, hist}`;
// hist lets the lines of several processes merge. Node's http client costs more CPU than the
// servers it measures, so requests are written and responses framed by hand.
import { connect, type Socket } from 'node:net';
import { histogramBucket, percentileOf, type LoadLine, type LoadSpec } from './load';

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('\r\n0\r\n\r\n');

interface Tally {
  hist: Map<number, number>;
  count: number;
  statusErrors: number;
  socketErrors: number;
}

/** Where a response that starts at buf[0] ends, or -1 when more bytes are needed. */
function responseEnd(buf: Buffer, head: boolean): { end: number; status: number } | undefined {
  const headerEnd = buf.indexOf(HEADER_END);
  if (headerEnd < 0) return undefined;
  const headers = buf.toString('latin1', 0, headerEnd);
  const status = Number(headers.slice(9, 12));
  const bodyStart = headerEnd + 4;
  if (head || status === 204 || status === 304) return { end: bodyStart, status };
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
  if (length !== null) {
    const end = bodyStart + Number(length[1]);
    return buf.length >= end ? { end, status } : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(headers)) {
    const last = buf.indexOf(CHUNKED_END, bodyStart - 2);
    return last < 0 ? undefined : { end: last + CHUNKED_END.length, status };
  }
  return { end: bodyStart, status };
}

/** One connection issuing requests back to back until the deadline. */
function connection(spec: LoadSpec, url: URL, body: Buffer | undefined, tally: Tally, deadline: bigint, next: () => number): Promise<void> {
  return new Promise((resolvePromise) => {
    let socket: Socket;
    let pending: Buffer = Buffer.alloc(0);
    let started = 0n;
    const head = spec.method === 'HEAD';
    const send = (): void => {
      if (process.hrtime.bigint() >= deadline) {
        socket.end();
        resolvePromise();
        return;
      }
      const path = `${spec.prefix}${next()}`;
      const lines = `${spec.method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${body === undefined ? '' : `Content-Length: ${body.length}\r\n`}\r\n`;
      started = process.hrtime.bigint();
      socket.write(body === undefined ? lines : Buffer.concat([Buffer.from(lines, 'latin1'), body]));
    };
    const open = (): void => {
      pending = Buffer.alloc(0);
      socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true }, send);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        const done = responseEnd(pending, head);
        if (done === undefined) return;
        const bucket = histogramBucket(Number(process.hrtime.bigint() - started) / 1000);
        tally.hist.set(bucket, (tally.hist.get(bucket) ?? 0) + 1);
        tally.count += 1;
        if (done.status >= 400 || !(done.status >= 100)) tally.statusErrors += 1;
        pending = pending.subarray(done.end);
        send();
      });
      socket.once('error', () => {
        tally.socketErrors += 1;
      });
      socket.once('close', () => {
        if (process.hrtime.bigint() < deadline) setImmediate(open);
        else resolvePromise();
      });
    };
    open();
  });
}

async function main(spec: LoadSpec): Promise<LoadLine> {
  const url = new URL(spec.base);
  const body = spec.method === 'PUT' ? Buffer.alloc(spec.bodyBytes, 's') : undefined;
  const tally: Tally = { hist: new Map(), count: 0, statusErrors: 0, socketErrors: 0 };
  let counter = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(spec.seconds * 1e9));
  await Promise.all(Array.from({ length: spec.connections }, () => connection(spec, url, body, tally, deadline, () => counter++ % spec.keys)));
  const durationUs = Number(process.hrtime.bigint() - started) / 1000;
  const buckets = [...tally.hist.entries()];
  return {
    requests: tally.count + tally.socketErrors,
    durationUs: Math.round(durationUs),
    errors: tally.statusErrors + tally.socketErrors,
    p50Us: Math.round(percentileOf(buckets, 50)),
    p99Us: Math.round(percentileOf(buckets, 99)),
    hist: buckets,
  };
}

const arg = process.argv[2];
if (arg === undefined) {
  process.stderr.write('usage: node loadgen.js \'{"base":"http://127.0.0.1:9000","method":"GET","prefix":"/b/k","keys":100,...}\'\n');
  process.exit(2);
}
main(JSON.parse(arg) as LoadSpec).then(
  (line) => process.stdout.write(`BENCH ${JSON.stringify(line)}\n`),
  (err: unknown) => {
    process.stderr.write(`loadgen: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
