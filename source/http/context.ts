// What a request handler gets: the request, the response, who is asking, and the services.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/config';
import type { Namespace } from '../namespace';
import type { RequestTarget } from './target';

export interface Services {
  config: Config;
  namespace: Namespace;
  /** The user that runs the server: owner of what arrives without a credential. */
  defaultUser: string;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  user: string;
  target: RequestTarget;
  services: Services;
}
