// Who is asking: SIMPLE identity (Alluxio's default: the credential names the user, nothing is
// verified) or SigV4 against a credentials file. Settled before any storage is touched.
import { accessDenied, invalidAccessKeyId } from '../errors';
import { CredentialStore } from './credentials';
import { claimedCredential, type SignedRequest } from './request';
import { verifySignatureV2 } from './sigv2';
import { verifySignature, type VerifiedSignature } from './sigv4';

export interface Identity {
  user: string;
  /** May act on every bucket (credentials marked `admin`; everyone in SIMPLE mode). */
  admin: boolean;
  /** Present in SigV4 mode: what streaming chunk signatures are checked against. */
  signature?: VerifiedSignature;
}

export interface Authenticator {
  /** True when buckets belong to their creators and others are refused. */
  readonly enforcesOwnership: boolean;
  authenticate(request: SignedRequest): Identity;
}

export class SimpleAuthenticator implements Authenticator {
  readonly enforcesOwnership = false;
  /** `defaultUser` acts for requests that name no credential (the user running the server). */
  constructor(private readonly defaultUser: string) {}
  authenticate(request: SignedRequest): Identity {
    return { user: claimedCredential(request)?.accessKey ?? this.defaultUser, admin: true };
  }
}

export class SigV4Authenticator implements Authenticator {
  readonly enforcesOwnership = true;
  readonly credentials: CredentialStore;

  constructor(credentialsFile: string) {
    this.credentials = new CredentialStore(credentialsFile);
  }

  authenticate(request: SignedRequest): Identity {
    const claim = claimedCredential(request);
    if (claim === undefined) return verifyAnonymous(request);
    const credential = this.credentials.get(claim.accessKey);
    if (!credential) throw invalidAccessKeyId(claim.accessKey);
    if (claim.scheme === 'v2') {
      verifySignatureV2(request, credential.secretKey);
      return { user: credential.user, admin: credential.admin };
    }
    const signature = verifySignature(request, credential.secretKey);
    return { user: credential.user, admin: credential.admin, signature };
  }
}

function verifyAnonymous(request: SignedRequest): never {
  // Throws the right error: AccessDenied for anonymous, a malformed-query error otherwise.
  verifySignature(request, '');
  throw accessDenied();
}

/** Refuses a user who neither owns the bucket nor is an admin. */
export function requireBucketAccess(identity: Identity, bucketOwner: string, bucket: string): void {
  if (!identity.admin && identity.user !== bucketOwner) throw accessDenied(undefined, { bucket });
}
