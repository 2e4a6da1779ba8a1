// DeleteObjects: up to 1000 keys in one request, each answered with Deleted or Error; Quiet mode
// reports errors only. The body's Content-MD5 or x-amz-checksum-* is verified before anything goes.
// A key may be conditional (ETag, LastModifiedTime, Size): if they do not hold, only that key fails.
import { S3Error, toS3Error } from '../errors';
import { child, childrenNamed } from '../http/request-xml';
import { sendXml } from '../http/respond';
import type { XmlNode } from '../http/xml';
import { parseObjectKey } from '../namespace';
import { readXmlBody } from './body';
import type { RequestContext } from './context';
import { deleteCondition } from './headers';
import { bucketOf } from './target';

const MAX_KEYS = 1000;
/** How a failed condition is named in the per-key error. */
const ELEMENT_NAMES = { etag: 'ETag', lastModified: 'LastModifiedTime', size: 'Size' };
const MAX_BODY = 2 * 1024 * 1024;

export async function deleteObjects(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const { namespace } = ctx.services;
  await namespace.buckets.require(bucket);
  const root = await readXmlBody(ctx, MAX_BODY);
  if (root.name !== 'Delete') throw new S3Error('MalformedXML');
  const quiet = child(root, 'Quiet')?.text.trim().toLowerCase() === 'true';
  const objects = childrenNamed(root, 'Object');
  if (objects.length === 0 || objects.length > MAX_KEYS) throw new S3Error('MalformedXML');
  const requested = objects.map((o) => {
    const key = child(o, 'Key');
    if (!key) throw new S3Error('MalformedXML');
    const text = (name: string): string | undefined => child(o, name)?.text.trim();
    const preconditions = { etag: text('ETag'), lastModified: text('LastModifiedTime'), size: text('Size') };
    return { key: key.text, versionId: child(o, 'VersionId')?.text, preconditions };
  });

  const results: XmlNode[] = [];
  // One key at a time keeps the order of the answer and the load on the disk predictable.
  for (const { key, versionId, preconditions } of requested) {
    try {
      if (versionId !== undefined && versionId !== 'null') throw new S3Error('NoSuchVersion');
      await namespace.objects.delete(bucket, parseObjectKey(key), deleteCondition(preconditions, ELEMENT_NAMES));
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
  sendXml(ctx.res, 200, 'DeleteResult', results);
}
