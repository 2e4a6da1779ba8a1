// Who is asking: SIMPLE identity (Alluxio's default: the credential names the user, nothing is
// verified) or SigV4 against a credentials file. Settled before any storage is touched.
import type { IncomingMessage } from 'node:http';
import { S3Error } from '../http/errors';
import type { RequestTarget } from '../http/target';
import { CredentialStore } from './credentials';
import { simpleIdentity } from './identity';
import { claimedAccessKeyV2, verifySignatureV2 } from './sigv2';
import { claimedAccessKey, verifySignature, type VerifiedSignature } from './sigv4';

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
  authenticate(req: IncomingMessage, target: RequestTarget): Identity;
}

export class SimpleAuthenticator implements Authenticator {
  readonly enforcesOwnership = false;
  constructor(private readonly defaultUser: string) {}
  authenticate(req: IncomingMessage, target: RequestTarget): Identity {
    return { user: simpleIdentity(req.headers, target.query, this.defaultUser), admin: true };
  }
}

export class SigV4Authenticator implements Authenticator {
  readonly enforcesOwnership = true;
  readonly credentials: CredentialStore;

  constructor(credentialsFile: string) {
    this.credentials = new CredentialStore(credentialsFile);
  }

  authenticate(req: IncomingMessage, target: RequestTarget): Identity {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const request = {
      method: req.method ?? 'GET',
      rawPath: target.rawPath,
      rawQuery: q >= 0 ? url.slice(q + 1) : '',
      headers: req.headers,
      query: target.query,
    };
    const v2Key = claimedAccessKeyV2(request);
    const accessKey = v2Key ?? claimedAccessKey(request);
    if (accessKey === undefined) return verifyAnonymous(request);
    const credential = this.credentials.get(accessKey);
    if (!credential) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKey });
    if (v2Key !== undefined) {
      verifySignatureV2(request, credential.secretKey);
      return { user: credential.user, admin: credential.admin };
    }
    const signature = verifySignature(request, credential.secretKey);
    return { user: credential.user, admin: credential.admin, signature };
  }
}

function verifyAnonymous(request: Parameters<typeof verifySignature>[0]): never {
  // Throws the right error: AccessDenied for anonymous, a malformed-header error otherwise.
  verifySignature(request, '');
  throw new S3Error('AccessDenied');
}

/** Refuses a user who neither owns the bucket nor is an admin. */
export function requireBucketAccess(identity: Identity, bucketOwner: string, bucket: string): void {
  if (!identity.admin && identity.user !== bucketOwner) throw new S3Error('AccessDenied', undefined, { BucketName: bucket });
}
