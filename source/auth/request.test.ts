// The credential a request claims: in SIMPLE mode the user is the access key it names.
import t from 'tap';
import { S3Error } from '../errors';
import { SimpleAuthenticator } from './authenticator';
import { claimedCredential } from './request';

const NO_QUERY = new URLSearchParams();
const simple = new SimpleAuthenticator('server-user');

function userOf(authorization: string | undefined, query = NO_QUERY): string {
  const headers = authorization === undefined ? {} : { authorization };
  return simple.authenticate({ method: 'GET', rawPath: '/', rawQuery: query.toString(), headers, query }).user;
}

function errorOf(authorization: string): S3Error | undefined {
  try {
    userOf(authorization);
    return undefined;
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
}

t.test('SigV4 Authorization header', async (t) => {
  t.equal(
    userOf(
      'AWS4-HMAC-SHA256 Credential=testuser/20240501/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=' +
        'f'.repeat(64),
    ),
    'testuser',
  );
  t.equal(userOf('AWS4-HMAC-SHA256 Credential=testuser/... SignedHeaders=... Signature=...'), 'testuser', 'the form Alluxio documents');
  t.equal(userOf('AWS4-HMAC-SHA256 Credential=testuser/..., SignedHeaders=..., Signature=...'), 'testuser', 'the seed form with commas');
  t.equal(
    userOf('AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=abc'),
    'AKIAIOSFODNN7EXAMPLE',
  );
  t.equal(
    userOf('AWS4-HMAC-SHA256 SignedHeaders=host, Credential=alice/20240501/us-east-1/s3/aws4_request, Signature=abc'),
    'alice',
    'any order',
  );
  t.equal(userOf('AWS4-HMAC-SHA256 Credential=alice.smith@example.com/20240501/us-east-1/s3/aws4_request'), 'alice.smith@example.com');
  t.equal(userOf('AWS4-HMAC-SHA256 Credential=bob'), 'bob', 'a credential without scope');
});

t.test('SigV2 Authorization header', async (t) => {
  t.equal(userOf('AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg='), 'AKIAIOSFODNN7EXAMPLE');
  t.equal(userOf('AWS testuser:sig'), 'testuser');
  t.equal(userOf('AWS  testuser:'), 'testuser', 'an empty signature still names the user');
});

t.test('presigned URLs', async (t) => {
  t.equal(
    userOf(
      undefined,
      new URLSearchParams(
        'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=presigner%2F20240501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abc',
      ),
    ),
    'presigner',
  );
  t.equal(userOf(undefined, new URLSearchParams('AWSAccessKeyId=v2user&Expires=1&Signature=abc')), 'v2user');
  t.equal(userOf('AWS4-HMAC-SHA256 Credential=header/x', new URLSearchParams('X-Amz-Credential=query/x')), 'header', 'the header wins');
});

t.test('no credential: the server user', async (t) => {
  t.equal(userOf(undefined), 'server-user');
  t.equal(userOf(''), 'server-user', 'an empty header');
  t.equal(userOf('   '), 'server-user', 'a blank header');
  t.equal(userOf(undefined, new URLSearchParams('prefix=a')), 'server-user');
});

t.test('a malformed Authorization header is AuthorizationHeaderMalformed', async (t) => {
  for (const header of [
    'Bearer token',
    'Basic dXNlcjpwYXNz',
    'AWS4-HMAC-SHA256',
    'AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc',
    'AWS4-HMAC-SHA256 Credential=/20240501/us-east-1/s3/aws4_request',
    'AWS4-HMAC-SHA256 Credential=, SignedHeaders=host',
    'AWS nocolon',
    'AWS :sig',
    'AWS',
    'garbage',
  ]) {
    const error = errorOf(header);
    t.equal(error?.code, 'AuthorizationHeaderMalformed', header);
    t.equal(error?.status, 400, header);
  }
  t.throws(() => claimedCredential({ headers: { authorization: 'Bearer x' }, query: NO_QUERY }), {
    code: 'AuthorizationHeaderMalformed',
    message: /Credential=<user>/,
  });
});

t.test('the scheme: SigV4 or SigV2, header or query', async (t) => {
  const claim = (headers: Record<string, string>, query = ''): unknown => claimedCredential({ headers, query: new URLSearchParams(query) });
  t.same(claim({ authorization: 'AWS4-HMAC-SHA256 Credential=a/20240501/us-east-1/s3/aws4_request' }), { accessKey: 'a', scheme: 'v4' });
  t.same(claim({ authorization: 'AWS b:sig' }), { accessKey: 'b', scheme: 'v2' });
  t.same(claim({}, 'X-Amz-Credential=c%2F20240501%2Fus-east-1%2Fs3%2Faws4_request'), { accessKey: 'c', scheme: 'v4' });
  t.same(claim({}, 'AWSAccessKeyId=d&Signature=x&Expires=1'), { accessKey: 'd', scheme: 'v2' });
  t.equal(claim({}), undefined, 'anonymous');
});
