// A hash worker thread: digests the batches of bytes the event loop hands it, one job per body,
// and gives each batch's buffer back for reuse. See hash-pool.ts.
import { parentPort } from 'node:worker_threads';
import { DigestSet } from './checksums';
import type { HashReply, HashRequest } from './hash-pool';

const port = parentPort!;
const jobs = new Map<number, DigestSet>();

function reply(message: HashReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

port.on('message', (message: HashRequest) => {
  switch (message.kind) {
    case 'open':
      jobs.set(message.job, new DigestSet(message.algorithms));
      break;
    case 'data':
      jobs.get(message.job)?.update(Buffer.from(message.buffer, 0, message.length));
      reply({ kind: 'ack', job: message.job, buffer: message.buffer }, [message.buffer]);
      break;
    case 'end': {
      const set = jobs.get(message.job);
      jobs.delete(message.job);
      if (!set) break;
      const { md5, checksums } = set.digests();
      reply({ kind: 'digests', job: message.job, md5, checksums: [...checksums] });
      break;
    }
    case 'drop':
      jobs.delete(message.job);
      break;
  }
});
