// Piping a chain of streams on a request path. stream.pipeline builds an AbortController for
// every call and aborts it at the end, which constructs a DOMException with a stack: on a 4 KiB
// request that costs more than the I/O. This does the same job without it.
import { finished, type Duplex, type Readable, type Writable } from 'node:stream';

/**
 * Pipes each stream into the next. On the first error every stream is destroyed and the promise
 * rejects with it; otherwise it resolves once the last stream has finished (and closed, for
 * streams that close, so a file's bytes are all written and its descriptor released).
 */
export function pump(...streams: [Readable, ...Duplex[], Writable]): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error | null): void => {
      if (settled) return;
      settled = true;
      if (!error) {
        resolve();
        return;
      }
      for (const stream of streams) stream.destroy(error);
      reject(error);
    };
    const last = streams.length - 1;
    streams.forEach((stream, i) => {
      finished(stream, { readable: i < last, writable: i > 0 }, (error) => {
        if (error) settle(error);
        else if (i === last) settle();
      });
      if (i < last) (stream as Readable).pipe(streams[i + 1] as Writable);
    });
  });
}
