// From a request to its action: the target is parsed, the caller identified, the action chosen
// and authorized (authorize.ts: its bucket, copy source and upload before the handler runs; the
// object it names as the handler opens it), all before any handler touches storage.
import type { Identity } from '../auth/authenticator';
import type { Exchange, RequestHandler } from '../http/server';
import { authorize } from './authorize';
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
    const identity = services.auth.authenticate({ method: req.method ?? 'GET', headers: req.headers, ...target });
    if (!identity.anonymous) exchange.log.user = identity.user;
    const copySource = req.headers['x-amz-copy-source'];
    const route = resolveRoute(req.method ?? 'GET', target, copySource !== undefined);
    exchange.log.action = route.action;
    const authorized = await authorize(services, callerOf(services, identity), target, route.action, copySource);
    const ctx: RequestContext = {
      req,
      res,
      requestId,
      user: authorized?.user ?? identity.user,
      identity,
      target,
      services: authorized ? { ...services, namespace: authorized.namespace } : services,
    };
    await route.handler(ctx);
  };
}

/** The superuser may do everything; so may every named user when --permissions is off (Alluxio's switch). */
function callerOf(services: Services, identity: Identity): Caller {
  const unchecked = !services.config.permissions.enabled && !identity.anonymous;
  return { user: identity.user, superuser: identity.admin || unchecked, anonymous: identity.anonymous };
}
