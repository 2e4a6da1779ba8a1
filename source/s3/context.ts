// What an action handler gets: the request, the response, who is asking, and the services.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, Identity } from '../auth/authenticator';
import type { Config } from '../config/config';
import type { Namespace } from '../namespace';
import type { RequestTarget } from './target';

export interface Services {
  config: Config;
  namespace: Namespace;
  /** SIMPLE identity or SigV4 verification. */
  auth: Authenticator;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  /** The user acting (identity.user), recorded as owner of what it creates. */
  user: string;
  identity: Identity;
  target: RequestTarget;
  services: Services;
  /**
   * Lets a client that sent Expect: 100-continue send its body (once; a no-op for others). Called
   * when the body is first read, after everything that can refuse the request without it.
   */
  sendContinue: () => void;
}
