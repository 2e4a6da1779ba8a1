// From a request to its action: the target is parsed, the caller identified, the action chosen,
// and (SigV4 mode) the buckets it touches checked to be the caller's, all before any handler
// touches storage. A client waiting to send its body (Expect: 100-continue) is let only once
// all that, and its bucket's existence, are settled.
import { requireBucketAccess, type Identity } from '../auth/authenticator';
import type { Exchange, RequestHandler } from '../http/server';
import { parseBucketName, type BucketName } from '../namespace';
import type { RequestContext, Services } from './context';
import { parseCopySource } from './copy-source';
import { resolveRoute } from './router';
import { parseTarget, type RequestTarget } from './target';

export function s3Handler(services: Services): RequestHandler {
  return async (exchange: Exchange): Promise<void> => {
    const { req, res, requestId } = exchange;
    const target = parseTarget(req.url ?? '/', services.config.basePath);
    exchange.log.bucket = target.bucket;
    exchange.log.key = target.key;
    const { basePath } = services.config;
    const identity = services.auth.authenticate({ method: req.method ?? 'GET', headers: req.headers, ...target, basePath });
    exchange.log.user = identity.user;
    const copySource = req.headers['x-amz-copy-source'];
    const route = resolveRoute(req.method ?? 'GET', target, copySource !== undefined);
    exchange.log.action = route.action;
    if (services.auth.enforcesOwnership) await authorize(services, identity, target, route.action, copySource);
    if (exchange.expectsContinue && target.bucket !== undefined && route.action !== 'CreateBucket') {
      await services.namespace.buckets.require(parseBucketName(target.bucket));
    }
    let continued = !exchange.expectsContinue;
    const sendContinue = (): void => {
      if (continued || res.headersSent) return;
      continued = true;
      res.writeContinue();
    };
    const ctx: RequestContext = { req, res, requestId, user: identity.user, identity, target, services, sendContinue };
    await route.handler(ctx);
  };
}

/**
 * In SigV4 mode buckets belong to their creators: the bucket of the request and the bucket of a
 * copy source must be the caller's (or the caller an admin).
 */
async function authorize(
  services: Services,
  identity: Identity,
  target: RequestTarget,
  action: string,
  copySource: string | string[] | undefined,
): Promise<void> {
  const buckets: BucketName[] = [];
  if (target.bucket !== undefined && action !== 'CreateBucket') {
    try {
      buckets.push(parseBucketName(target.bucket));
    } catch {
      // the handler reports the invalid name
    }
  }
  if (typeof copySource === 'string') {
    try {
      buckets.push(parseCopySource(copySource).bucket);
    } catch {
      // the handler reports the malformed header
    }
  }
  for (const bucket of buckets) {
    const info = await services.namespace.buckets.info(bucket).catch(() => undefined);
    if (info) requireBucketAccess(identity, info.owner, bucket);
  }
}
