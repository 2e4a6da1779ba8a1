// ListParts and ListMultipartUploads paging (max-parts, part-number-marker, prefix, delimiter,
// key-marker, upload-id-marker, max-uploads, key-then-initiation order), checked against boto3's
// paginators too, and in-progress uploads kept out of object listings.
import t, { type Test } from 'tap';
import { boto3, createBucket, errorCode, lastJson, objectPath, s3, startSluice, xmlValue, xmlValues, type Sluice } from '../lib/harness';
import { createUpload, uploadPart } from '../lib/multipart-helpers';

let server: Sluice;
t.before(async () => {
  server = await startSluice();
  await createBucket(server, 'lists');
});
t.teardown(() => server.stop());

interface PartsPage {
  numbers: number[];
  truncated: boolean;
  next: string | undefined;
  marker: string | undefined;
  maxParts: string | undefined;
}

async function partsPage(key: string, id: string, query: string): Promise<PartsPage> {
  const res = await s3(server, 'GET', `${objectPath('lists', key)}?uploadId=${id}${query}`);
  if (res.status !== 200) throw new Error(res.text);
  return {
    numbers: xmlValues(res.text, 'PartNumber').map(Number),
    truncated: xmlValue(res.text, 'IsTruncated') === 'true',
    next: xmlValue(res.text, 'NextPartNumberMarker'),
    marker: xmlValue(res.text, 'PartNumberMarker'),
    maxParts: xmlValue(res.text, 'MaxParts'),
  };
}

t.test('ListParts: max-parts, part-number-marker, NextPartNumberMarker, IsTruncated', async (t) => {
  const id = await createUpload(server, 'lists', 'paged');
  const numbers = [1, 2, 3, 5, 8, 13, 21];
  const etags = new Map<number, string>();
  for (const n of numbers) etags.set(n, await uploadPart(server, 'lists', 'paged', id, n, Buffer.from(`part ${n}`)));

  const all = await partsPage('paged', id, '');
  t.same(all.numbers, numbers, 'all parts in number order');
  t.equal(all.truncated, false);
  t.equal(all.maxParts, '1000', 'the default page is 1000 parts');

  const first = await partsPage('paged', id, '&max-parts=3');
  t.same(first.numbers, [1, 2, 3]);
  t.equal(first.truncated, true);
  t.equal(first.next, '3');
  t.equal(first.maxParts, '3');
  const second = await partsPage('paged', id, `&max-parts=3&part-number-marker=${first.next}`);
  t.same(second.numbers, [5, 8, 13]);
  t.equal(second.marker, '3');
  t.equal(second.truncated, true);
  t.equal(second.next, '13');
  const last = await partsPage('paged', id, `&max-parts=3&part-number-marker=${second.next}`);
  t.same(last.numbers, [21]);
  t.equal(last.truncated, false);
  const exact = await partsPage('paged', id, '&max-parts=7');
  t.equal(exact.truncated, false, 'a page that holds exactly the rest is not truncated');
  const between = await partsPage('paged', id, '&part-number-marker=4');
  t.same(between.numbers, [5, 8, 13, 21], 'a marker that names no part: the parts after it');
  const past = await partsPage('paged', id, '&part-number-marker=21');
  t.same(past.numbers, []);
  t.equal(past.truncated, false);
  const res = await s3(server, 'GET', `${objectPath('lists', 'paged')}?uploadId=${id}`);
  t.same(
    xmlValues(res.text, 'ETag'),
    numbers.map((n) => `&quot;${etags.get(n)}&quot;`),
    'each part with its real ETag',
  );
  t.equal(errorCode(await s3(server, 'GET', `${objectPath('lists', 'paged')}?uploadId=${id}&max-parts=abc`)), 'InvalidArgument');
  t.equal(errorCode(await s3(server, 'GET', `${objectPath('lists', 'paged')}?uploadId=${id}&part-number-marker=-1`)), 'InvalidArgument');

  // boto3's paginator follows NextPartNumberMarker to the end.
  const py = lastJson<number[]>(
    await boto3(
      server,
      `
pages = s3.get_paginator('list_parts').paginate(Bucket='lists', Key='paged', UploadId=${JSON.stringify(id)}, PaginationConfig={'PageSize': 2})
print(json.dumps([p['PartNumber'] for page in pages for p in page.get('Parts', [])]))
`,
    ),
  );
  t.same(py, numbers, 'boto3 list_parts paginator');
});

interface UploadsPage {
  uploads: [string, string][];
  prefixes: string[];
  truncated: boolean;
  nextKey: string | undefined;
  nextId: string | undefined;
}

async function uploadsPage(query: string): Promise<UploadsPage> {
  const res = await s3(server, 'GET', `/uplist?uploads${query}`);
  if (res.status !== 200) throw new Error(res.text);
  const uploads = [...res.text.matchAll(/<Upload><Key>([^<]*)<\/Key><UploadId>([^<]*)<\/UploadId>/g)].map((m) => [m[1]!, m[2]!] as [string, string]);
  const prefixes = [...res.text.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) => m[1]!);
  return {
    uploads,
    prefixes,
    truncated: xmlValue(res.text, 'IsTruncated') === 'true',
    nextKey: xmlValue(res.text, 'NextKeyMarker'),
    nextId: xmlValue(res.text, 'NextUploadIdMarker'),
  };
}

/** Follows NextKeyMarker/NextUploadIdMarker to the end. */
async function allPages(t: Test, query: string, maxUploads: number): Promise<{ uploads: [string, string][]; prefixes: string[]; pages: number }> {
  const uploads: [string, string][] = [];
  const prefixes: string[] = [];
  let marker = '';
  for (let pages = 1; ; pages++) {
    const page = await uploadsPage(`${query}&max-uploads=${maxUploads}${marker}`);
    uploads.push(...page.uploads);
    prefixes.push(...page.prefixes);
    t.ok(page.uploads.length + page.prefixes.length <= maxUploads, 'no page is larger than max-uploads');
    if (!page.truncated) return { uploads, prefixes, pages };
    marker = `&key-marker=${encodeURIComponent(page.nextKey ?? '')}&upload-id-marker=${encodeURIComponent(page.nextId ?? '')}`;
    if (pages > 50) throw new Error('paging does not end');
  }
}

t.test('ListMultipartUploads: key then initiation order, prefix, delimiter, markers, max-uploads', async (t) => {
  await createBucket(server, 'uplist');
  // Created out of key order; three uploads of one key, in a known initiation order.
  const created: [string, string][] = [];
  for (const key of ['m/2', 'same', 'z', 'm/1', 'same', 'a', 'same', 'm/sub/3', '\u{1F600}', '\uFF5E']) {
    created.push([key, await createUpload(server, 'uplist', key)]);
  }
  const byKey = (k: string) => created.filter(([key]) => key === k);
  // UTF-8 byte order: U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80), unlike UTF-16.
  const expected = [...byKey('a'), ...byKey('m/1'), ...byKey('m/2'), ...byKey('m/sub/3'), ...byKey('same'), ...byKey('z'), ...byKey('\uFF5E'), ...byKey('\u{1F600}')];
  const everything = await uploadsPage('');
  t.same(everything.uploads, expected, 'key order (UTF-8 bytes), then initiation order within a key');
  t.equal(everything.truncated, false);

  t.same((await uploadsPage('&prefix=m/')).uploads, [...byKey('m/1'), ...byKey('m/2'), ...byKey('m/sub/3')], 'prefix');
  const delimited = await uploadsPage('&delimiter=/');
  t.same(delimited.prefixes, ['m/'], 'delimiter: a common prefix');
  t.same(delimited.uploads.map(([k]) => k), ['a', 'same', 'same', 'same', 'z', '\uFF5E', '\u{1F600}']);
  const nested = await uploadsPage('&delimiter=/&prefix=m/');
  t.same(nested.prefixes, ['m/sub/']);
  t.same(nested.uploads, [...byKey('m/1'), ...byKey('m/2')]);

  const afterKey = await uploadsPage('&key-marker=m/2');
  t.same(afterKey.uploads, expected.slice(3), 'key-marker alone: uploads of later keys only');
  const sameIds = byKey('same').map(([, id]) => id);
  const afterUpload = await uploadsPage(`&key-marker=same&upload-id-marker=${sameIds[0]}`);
  t.same(afterUpload.uploads, expected.slice(5), 'key-marker with upload-id-marker: the later uploads of that key, then later keys');

  const first = await uploadsPage('&max-uploads=2');
  t.same(first.uploads, expected.slice(0, 2));
  t.equal(first.truncated, true);
  t.equal(first.nextKey, 'm/1');
  t.equal(first.nextId, expected[1]![1]);

  for (const size of [1, 2, 3]) {
    const paged = await allPages(t, '', size);
    t.same(paged.uploads, expected, `max-uploads=${size}: the pages add up to the whole list`);
  }
  const pagedDelimited = await allPages(t, '&delimiter=/', 1);
  t.same(pagedDelimited.prefixes, ['m/'], 'paging with a delimiter: each common prefix once');
  t.same(pagedDelimited.uploads, delimited.uploads);

  const encoded = await s3(server, 'GET', '/uplist?uploads&prefix=%F0%9F&encoding-type=url');
  t.equal(encoded.status, 200);
  t.equal(errorCode(await s3(server, 'GET', '/uplist?uploads&max-uploads=x')), 'InvalidArgument');
  t.equal(errorCode(await s3(server, 'GET', '/nolists?uploads')), 'NoSuchBucket');

  const py = lastJson<[string, string][]>(
    await boto3(
      server,
      `
pages = s3.get_paginator('list_multipart_uploads').paginate(Bucket='uplist', PaginationConfig={'PageSize': 3})
print(json.dumps([[u['Key'], u['UploadId']] for page in pages for u in page.get('Uploads', [])]))
`,
    ),
  );
  t.same(py, expected, 'boto3 list_multipart_uploads paginator');
});

t.test('in-progress uploads never appear in object listings', async (t) => {
  await createBucket(server, 'hidden');
  const id = await createUpload(server, 'hidden', 'dir/inner/obj');
  await uploadPart(server, 'hidden', 'dir/inner/obj', id, 1, Buffer.from('invisible'));
  const other = await createUpload(server, 'hidden', 'top');
  await uploadPart(server, 'hidden', 'top', other, 1, Buffer.from('invisible too'));
  for (const query of ['', '?list-type=2', '?delimiter=/', '?list-type=2&prefix=dir/', '?versions']) {
    const res = await s3(server, 'GET', `/hidden${query}`);
    t.equal(res.status, 200);
    t.same(xmlValues(res.text, 'Key'), [], `no key in /hidden${query}`);
    t.same(xmlValues(res.text, 'Prefix').filter((p) => p !== '' && p !== 'dir/'), [], `no common prefix in /hidden${query}`);
  }
  const buckets = await s3(server, 'GET', '/');
  t.notMatch(buckets.text, /sluice|multipart/, 'ListBuckets shows no internal folder');
  t.equal((await s3(server, 'GET', objectPath('hidden', 'top'))).status, 404, 'GetObject: no object yet');
});
