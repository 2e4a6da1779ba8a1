// Collecting a small stream (a request's XML body) into memory, never past a bound.

/** Reads `source` whole; throws `tooLarge()` as soon as it has more than `limit` bytes. */
export async function collectBounded(source: AsyncIterable<Buffer>, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
