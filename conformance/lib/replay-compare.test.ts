// The replay's comparison on its own: a transcript must fail when the server answers otherwise.
import { createHash } from 'node:crypto';
import t from 'tap';
import { Scope, compareOutput, expectationOf } from './replay-compare';
import { parseTranscript, type Step } from './replay-format';
import { shellWords } from './replay-shell';

const LICENSE = Buffer.from('license text\n');
const md5 = createHash('md5').update(LICENSE).digest('hex');

function scope(): Scope {
  const s = new Scope(new Map([['LICENSE', LICENSE]]));
  s.names.push(['testbucket', 't01-testbucket']);
  return s;
}

/** The first step of a transcript whose document section is `body`. */
function step(body: string): Step {
  return parseTranscript('inline.txt', `# inline\nbucket: testbucket\n\n== document ==\n${body}\n`).steps[0]!;
}

const ok = (stdout: string, code = 0, stderr = '') => ({ code, stdout, stderr });

t.test('JSON: members, order, ETags, dates, renamed names', async (t) => {
  const s = step(`$ aws s3api list-objects-v2 --bucket=testbucket
{
  "Contents": [
    { "Key": "a", "LastModified": "2022-05-03T11:35:59.243000+00:00", "Size": 1 },
    {
      "Key": "b",
      "ETag": "",          ## etag LICENSE
      "Size": 2
    }
  ],
  "Name": "testbucket"
}`);
  const expectation = expectationOf(s);
  const now = new Date().toISOString();
  const good = { Contents: [{ Key: 'a', LastModified: now, Size: 1, StorageClass: 'STANDARD' }, { Key: 'b', ETag: `"${md5}"`, Size: 2 }], Name: 't01-testbucket' };
  t.same(compareOutput(scope(), expectation, ok(JSON.stringify(good))), []);

  const unquoted = structuredClone(good);
  unquoted.Contents[1]!.ETag = md5;
  t.match(compareOutput(scope(), expectation, ok(JSON.stringify(unquoted))), [{ path: '.Contents[1].ETag' }], 'an ETag without quotes fails');

  const reversed = { ...good, Contents: [...good.Contents].reverse() };
  t.ok(compareOutput(scope(), expectation, ok(JSON.stringify(reversed))).length > 0, 'a listing in the wrong order fails');

  const extra = { ...good, Contents: [...good.Contents, { Key: 'c', Size: 0 }] };
  t.match(compareOutput(scope(), expectation, ok(JSON.stringify(extra))), [{ path: '.Contents', expected: '2 items', actual: '3 items' }]);

  const old = structuredClone(good);
  old.Contents[0]!.LastModified = '1970-01-01T00:00:00.000Z';
  t.match(compareOutput(scope(), expectation, ok(JSON.stringify(old))), [{ path: '.Contents[0].LastModified' }], 'a date far from now fails');

  const otherBucket = { ...good, Name: 'testbucket' };
  t.same(compareOutput(scope(), expectation, ok(JSON.stringify(otherBucket))), [], 'the documented name itself maps to itself');
  const wrongBucket = { ...good, Name: 't02-testbucket' };
  t.match(compareOutput(scope(), expectation, ok(JSON.stringify(wrongBucket))), [{ path: '.Name' }]);

  t.match(compareOutput(scope(), expectation, ok('', 255, 'An error occurred (NoSuchBucket)')), [{ path: 'exit status' }]);
});

t.test('annotations: absent, any, =, multipart ETags', async (t) => {
  const s = step(`$ aws s3api head-object --bucket=testbucket --key=m
{
  "ContentLength": 27040,                ## = 5
  "ETag": "x",                           ## multipart-etag LICENSE LICENSE
  "Owner": null,                         ## any
  "Uploads": []                          ## absent
}`);
  const e = expectationOf(s);
  const part = createHash('md5').update(LICENSE).digest();
  const etag = `"${createHash('md5').update(Buffer.concat([part, part])).digest('hex')}-2"`;
  t.same(compareOutput(scope(), e, ok(JSON.stringify({ ContentLength: 5, ETag: etag, Owner: { ID: 'x' } }))), []);
  t.match(compareOutput(scope(), e, ok(JSON.stringify({ ContentLength: 5, ETag: `"${md5}"`, Uploads: [] }))), [{ path: '.ETag' }, { path: '.Uploads' }]);
});

t.test('upload ids bind on first sight and must then stay the same', async (t) => {
  const sc = scope();
  const create = expectationOf(step('$ aws s3api create-multipart-upload\n{ "UploadId": "6367cf96-ea4e-4447-b931-c5bc91200375" }'));
  t.same(compareOutput(sc, create, ok('{"UploadId": "server-id-123456"}')), []);
  t.equal(sc.ids.get('6367cf96-ea4e-4447-b931-c5bc91200375'), 'server-id-123456');
  const again = expectationOf(step('$ aws s3api list-multipart-uploads\n{ "Uploads": [ { "UploadId": "6367cf96-ea4e-4447-b931-c5bc91200375" } ] }'));
  t.same(compareOutput(sc, again, ok('{"Uploads": [{"UploadId": "server-id-123456"}]}')), []);
  t.match(compareOutput(sc, again, ok('{"Uploads": [{"UploadId": "server-id-999999"}]}')), [{ path: '.Uploads[0].UploadId' }]);
  const second = expectationOf(step('$ aws s3api create-multipart-upload\n{ "UploadId": "c4cddf71-914a-4cee-b2af-8cfb7def7d04" }'));
  t.match(compareOutput(sc, second, ok('{"UploadId": "server-id-123456"}')), [{ path: '.UploadId' }], 'two uploads cannot share an id');
});

t.test('HTTP: status line, headers, XML body by element name', async (t) => {
  const s = step(`$ curl -i http://localhost:39999/api/v1/s3/testbucket
HTTP/1.1 200 OK
Date: Tue, 03 May 2022 21:50:26 GMT
Content-Type: application/xml
Content-Length: 434                ## length
Server: Jetty                      ## present

<ListBucketResult>
  <Contents>
    <Key>test.txt</Key>
    <ETag></ETag>                  ## etag LICENSE
  </Contents>
  <Name>testbucket</Name>
  <EncodingType>url</EncodingType> ## absent
</ListBucketResult>`);
  const e = expectationOf(s);
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>t01-testbucket</Name><Contents><Key>test.txt</Key><ETag>&quot;${md5}&quot;</ETag><Size>1</Size></Contents></ListBucketResult>`;
  const response = (status: string, headers: string, b: string): string => `${status}\r\n${headers}\r\n\r\n${b}`;
  const headers = (length: number): string => `Date: ${new Date().toUTCString()}\r\ncontent-type: application/xml\r\nContent-Length: ${length}\r\nServer: sluice`;
  t.same(compareOutput(scope(), e, ok(response('HTTP/1.1 200 OK', headers(Buffer.byteLength(body)), body))), []);
  t.match(compareOutput(scope(), e, ok(response('HTTP/1.1 404 Not Found', headers(Buffer.byteLength(body)), body))), [{ path: 'status line' }]);
  t.match(compareOutput(scope(), e, ok(response('HTTP/1.1 200 OK', headers(3), body))), [{ path: 'header Content-Length' }]);
  const encoded = body.replace('</ListBucketResult>', '<EncodingType>url</EncodingType></ListBucketResult>');
  t.match(compareOutput(scope(), e, ok(response('HTTP/1.1 200 OK', headers(Buffer.byteLength(encoded)), encoded))), [{ path: '/ListBucketResult/EncodingType' }]);
  const twice = body.replace('</Contents>', '</Contents><Contents><Key>x</Key><ETag/></Contents>');
  t.match(compareOutput(scope(), e, ok(response('HTTP/1.1 200 OK', headers(Buffer.byteLength(twice)), twice))), [{ path: '/ListBucketResult/Contents', expected: '1 element(s)' }]);
});

t.test('errors and text', async (t) => {
  const e = expectationOf(step('$ aws s3api list-parts\n! error NoSuchUpload'));
  t.same(compareOutput(scope(), e, ok('', 255, 'An error occurred (NoSuchUpload) when calling the ListParts operation')), []);
  t.equal(compareOutput(scope(), e, ok('{}')).length, 1, 'success where a failure is documented fails');
  const text = expectationOf(step('$ stat /tmp/x\n  File: /tmp/x\n  Size: 5   Blocks: 8  regular file     ## ~ Size: 5 Blocks: \\d+ regular file\n...'));
  t.same(compareOutput(scope(), text, ok('  File: /tmp/x\n  Size: 5\tBlocks: 16  regular file\nDevice: 1\n')), []);
  t.equal(compareOutput(scope(), text, ok('  File: /tmp/x\n  Size: 6\tBlocks: 16  regular file\n')).length, 1);
  const empty = expectationOf(step('$ aws s3api delete-object'));
  t.equal(compareOutput(scope(), empty, ok('{"DeleteMarker": true}')).length, 1, 'output where the document shows none fails');
});

t.test('transcript format', async (t) => {
  const tr = parseTranscript(
    'x.txt',
    `# Title here
source: somewhere
buckets: testbucket tempbucket
user: testuser (literal: why)
fixture A: 10 bytes
fixture B: "b"
fixture C: A + B

== setup (not in the document) ==
$ curl -X PUT \\
    http://localhost:39999/api/v1/s3/testbucket

== document ==
$ python3 - <<'EOF'
print("{}")
EOF
| {"documented": "only"}
{}
`,
  );
  t.equal(tr.title, 'Title here');
  t.same(tr.buckets, ['testbucket', 'tempbucket']);
  t.equal(tr.literalUser, true);
  t.same(tr.fixtures, [{ name: 'A', size: 10 }, { name: 'B', text: 'b' }, { name: 'C', concat: ['A', 'B'] }]);
  t.equal(tr.steps[0]!.command, 'curl -X PUT http://localhost:39999/api/v1/s3/testbucket');
  t.equal(tr.steps[1]!.command, 'python3 -');
  t.equal(tr.steps[1]!.input, 'print("{}")\n');
  t.same(tr.steps[1]!.documentedOnly, ['{"documented": "only"}']);
  t.same(tr.steps[1]!.expected.map((l) => l.text), ['{}']);
  t.throws(() => parseTranscript('y.txt', '# no document\n== setup ==\n$ true\n'));
});

t.test('shell words', async (t) => {
  t.same(shellWords(`aws --tagging='TagSet=[{Key=k}]' --body="\${HOME_DIR}/f" a\\ b`, { HOME_DIR: '/h' }), ['aws', '--tagging=TagSet=[{Key=k}]', '--body=/h/f', 'a b']);
  t.same(shellWords(`curl -H "Authorization: x \\"y\\"" "$AUTH"`, { AUTH: 'A: b' }), ['curl', '-H', 'Authorization: x "y"', 'A: b']);
  t.throws(() => shellWords('echo $UNDEFINED', {}));
});
