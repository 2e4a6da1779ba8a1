// From a request to its action: the target is parsed, the caller identified, the action chosen
// and authorized (authorize.ts: its bucket, copy source and upload before the handler runs; the
// object it names as the handler opens it), all before any handler touches storage. A client
// waiting to send its body (Expect: 100-continue) is let only once all that, and its bucket's
// existence, are settled.
import type { Identity } from '../auth/authenticator';
import type { Exchange, RequestHandler } from '../http/server';
import { authorize } from './authorize';
import { parseBucketName } from '../namespace';
import type { RequestContext, Services } from './context';
import type { Caller } from './permissions';
import { resolveRoute } from './router';
import { parseTarget } from './target';

export function s3Handler(services: Services): RequestHandler {
  return async (exchange: Exchange): Promise<void> => {
    const { req, res, requestId } = exchange;
    const target = parseTarget(req.url ?? '/', services.config.basePath);
    exchange.log.bucket = target.bucket;
    exchange.log.key = target.key;
    const { basePath } = services.config;
    const identity = services.auth.authenticate({ method: req.method ?? 'GET', headers: req.headers, ...target, basePath });
    if (!identity.anonymous) exchange.log.user = identity.user;
    const copySource = req.headers['x-amz-copy-source'];
    const route = resolveRoute(req.method ?? 'GET', target, copySource !== undefined);
    exchange.log.action = route.action;
    const authorized = await authorize(services, callerOf(services, identity), target, route.action, copySource);
    if (exchange.expectsContinue && target.bucket !== undefined && route.action !== 'CreateBucket') {
      await services.namespace.buckets.require(parseBucketName(target.bucket));
    }
    let continued = !exchange.expectsContinue;
    const sendContinue = (): void => {
      if (continued || res.headersSent) return;
      continued = true;
      res.writeContinue();
    };
    const ctx: RequestContext = {
      req,
      res,
      requestId,
      user: authorized?.user ?? identity.user,
      identity,
      target,
      services: authorized ? { ...services, namespace: authorized.namespace } : services,
      sendContinue,
    };
    await route.handler(ctx);
  };
}

/** The superuser may do everything; so may every named user when --permissions is off (Alluxio's switch). */
function callerOf(services: Services, identity: Identity): Caller {
  const unchecked = !services.config.permissions.enabled && !identity.anonymous;
  return { user: identity.user, superuser: identity.admin || unchecked, anonymous: identity.anonymous };
}
