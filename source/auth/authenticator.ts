// Who is asking: SIMPLE identity (Alluxio's default: the credential names the user, nothing is
// verified) or SigV4 against a credentials file. Settled before any storage is touched; what the
// caller may then do is s3/authorize.ts's business.
import { invalidAccessKeyId } from '../errors';
import { CredentialStore } from './credentials';
import { claimedCredential, type SignedRequest } from './request';
import { verifySignatureV2 } from './sigv2';
import { verifySignature, type VerifiedSignature } from './sigv4';

export interface Identity {
  /** The user acting; empty for an anonymous request. */
  user: string;
  /**
   * The superuser, who may do everything: credentials marked `admin`; in SIMPLE mode the user
   * running the server (Alluxio's: the user that launched the proxy), who acts for requests that
   * name no credential.
   */
  admin: boolean;
  /** A request that names no credential in SigV4 mode: it may only do what is granted to everyone. */
  anonymous: boolean;
  /** Present in SigV4 mode: what streaming chunk signatures are checked against. */
  signature?: VerifiedSignature;
}

export interface Authenticator {
  authenticate(request: SignedRequest): Identity;
}

export class SimpleAuthenticator implements Authenticator {
  /** `superuser` acts for requests that name no credential (the user running the server). */
  constructor(private readonly superuser: string) {}
  authenticate(request: SignedRequest): Identity {
    const user = claimedCredential(request)?.accessKey ?? this.superuser;
    return { user, admin: user === this.superuser, anonymous: false };
  }
}

export class SigV4Authenticator implements Authenticator {
  readonly credentials: CredentialStore;

  constructor(credentialsFile: string) {
    this.credentials = new CredentialStore(credentialsFile);
  }

  authenticate(request: SignedRequest): Identity {
    const claim = claimedCredential(request);
    if (claim === undefined) return anonymous(request);
    const credential = this.credentials.get(claim.accessKey);
    if (!credential) throw invalidAccessKeyId(claim.accessKey);
    if (claim.scheme === 'v2') {
      verifySignatureV2(request, credential.secretKey);
      return { user: credential.user, admin: credential.admin, anonymous: false };
    }
    const signature = verifySignature(request, credential.secretKey);
    return { user: credential.user, admin: credential.admin, anonymous: false, signature };
  }
}

/** A request that names no credential; a presigned query that names none is malformed, not anonymous. */
function anonymous(request: SignedRequest): Identity {
  if (request.query.get('X-Amz-Algorithm') !== null) verifySignature(request, ''); // throws the query's error
  return { user: '', admin: false, anonymous: true };
}
