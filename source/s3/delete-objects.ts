// DeleteObjects: up to 1000 keys in one request, each answered with Deleted or Error; Quiet mode
// reports errors only. The body's Content-MD5 or x-amz-checksum-* is verified before anything goes.
import type { RequestContext } from '../http/context';
import { S3Error, toS3Error } from '../http/errors';
import { child, childrenNamed, parseXml } from '../http/request-xml';
import { sendXml } from '../http/respond';
import type { XmlNode } from '../http/xml';
import { parseObjectKey } from '../namespace';
import { receiveBody } from './body';
import { bucketOf } from './target';

const MAX_KEYS = 1000;
const MAX_BODY = 2 * 1024 * 1024;

async function readBody(ctx: RequestContext): Promise<string> {
  const body = receiveBody(ctx);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.source as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new S3Error('MalformedXML', `The XML body must not exceed ${MAX_BODY} bytes.`);
    chunks.push(chunk);
  }
  body.verify();
  return Buffer.concat(chunks, size).toString('utf8');
}

export async function deleteObjects(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const { namespace } = ctx.services;
  await namespace.buckets.require(bucket);
  const text = await readBody(ctx);
  if (text.trim() === '') throw new S3Error('MissingRequestBodyError');
  const root = parseXml(text);
  if (root.name !== 'Delete') throw new S3Error('MalformedXML');
  const quiet = child(root, 'Quiet')?.text.trim().toLowerCase() === 'true';
  const objects = childrenNamed(root, 'Object');
  if (objects.length === 0 || objects.length > MAX_KEYS) throw new S3Error('MalformedXML');
  const requested = objects.map((o) => {
    const key = child(o, 'Key');
    if (!key) throw new S3Error('MalformedXML');
    return { key: key.text, versionId: child(o, 'VersionId')?.text };
  });

  const results: XmlNode[] = [];
  // One key at a time keeps the order of the answer and the load on the disk predictable.
  for (const { key, versionId } of requested) {
    try {
      if (versionId !== undefined && versionId !== 'null') throw new S3Error('NoSuchVersion');
      await namespace.objects.delete(bucket, parseObjectKey(key));
      if (!quiet) results.push(['Deleted', [['Key', key], ...(versionId !== undefined ? ([['VersionId', versionId]] as XmlNode[]) : [])]]);
    } catch (e) {
      const error = toS3Error(e);
      results.push([
        'Error',
        [
          ['Key', key],
          ...(versionId !== undefined ? ([['VersionId', versionId]] as XmlNode[]) : []),
          ['Code', error.code],
          ['Message', error.message],
        ],
      ]);
    }
  }
  sendXml(ctx, 200, 'DeleteResult', results);
}
