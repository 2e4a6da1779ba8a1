// The byte-moving workloads: (1) one big PUT then GET, (4) many big PUTs and GETs at once with the
// server's peak RSS, (5) CompleteMultipartUpload against `cat parts > out` on the same disk.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BUCKET, deleteObject, eachServer, objectUrl, type Bench } from './context';
import { concurrently, curlGet, curlPut, rate } from './curl';
import { expectOk, request } from './http';
import { catSeconds } from './limits';
import { peakRssMb, resetPeakRss, settle } from './proc';
import type { Server } from './servers';

export async function bigObject(b: Bench): Promise<void> {
  // A PUT that computes the MD5 ETag cannot beat one core's MD5 rate.
  b.record.set('put1g', 'limit', b.record.get('md5', 'limit'));
  await eachServer(b, 'workload 1', async (s) => {
    const key = 'big/object';
    await settle();
    const put = await curlPut(objectUrl(s, key), b.files.big);
    if (put.bytes !== b.o.bigBytes) throw new Error(`PUT sent ${put.bytes} bytes, not ${b.o.bigBytes}`);
    b.record.set('put1g', s.name, rate(put));
    const get = await curlGet(objectUrl(s, key));
    if (get.bytes !== b.o.bigBytes) throw new Error(`GET returned ${get.bytes} bytes, not ${b.o.bigBytes}`);
    b.record.set('get1g', s.name, rate(get));
    b.log(`  ${s.name}: PUT ${rate(put).toFixed(0)} MB/s, GET ${rate(get).toFixed(0)} MB/s`);
    await deleteObject(s, key);
  });
}

export async function manyAtOnce(b: Bench): Promise<void> {
  await eachServer(b, 'workload 4', async (s) => {
    const keys = Array.from({ length: b.o.concurrentCount }, (_, i) => `many/${String(i).padStart(2, '0')}`);
    await settle();
    if (!resetPeakRss(s.pid)) b.record.note(`could not reset the peak RSS of ${s.name}: its peak may predate workload 4`);
    const put = await concurrently(keys.map((k) => () => curlPut(objectUrl(s, k), b.files.concurrent)));
    const get = await concurrently(keys.map((k) => () => curlGet(objectUrl(s, k))));
    const peak = peakRssMb(s.pid);
    b.record.set('put16', s.name, put.mbPerSecond);
    b.record.set('get16', s.name, get.mbPerSecond);
    b.record.set('rss16', s.name, peak);
    b.log(`  ${s.name}: PUT ${put.mbPerSecond.toFixed(0)} MB/s, GET ${get.mbPerSecond.toFixed(0)} MB/s, peak RSS ${peak.toFixed(0)} MB`);
    for (const k of keys) await deleteObject(s, k);
  });
}

function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

async function completeOn(b: Bench, s: Server): Promise<number> {
  const key = 'multipart/object';
  const path = `/${BUCKET}/${key}`;
  const created = await expectOk(s.base, 'POST', `${path}?uploads`);
  const uploadId = tag(created.body, 'UploadId');
  if (uploadId === undefined) throw new Error(`CreateMultipartUpload gave no UploadId: ${created.body.slice(0, 200)}`);
  const query = `uploadId=${encodeURIComponent(uploadId)}`;
  const etags: string[] = [];
  for (let part = 1; part <= b.o.multipartParts; part++) {
    const reply = await expectOk(s.base, 'PUT', `${path}?partNumber=${part}&${query}`, { file: b.files.part });
    const etag = reply.headers.etag;
    if (etag === undefined) throw new Error(`UploadPart ${part} gave no ETag`);
    etags.push(etag);
  }
  const xml =
    '<CompleteMultipartUpload>' +
    etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('') +
    '</CompleteMultipartUpload>';
  await settle();
  const done = await request(s.base, 'POST', `${path}?${query}`, { body: xml, headers: { 'content-type': 'application/xml' } });
  if (done.status !== 200 || !done.body.includes('CompleteMultipartUploadResult')) {
    throw new Error(`CompleteMultipartUpload answered ${done.status}: ${done.body.trim().slice(0, 300)}`);
  }
  const head = await expectOk(s.base, 'HEAD', path);
  if (Number(head.headers['content-length']) !== b.o.multipartBytes) {
    throw new Error(`the completed object has ${String(head.headers['content-length'])} bytes, not ${b.o.multipartBytes}`);
  }
  await deleteObject(s, key);
  return done.ms / 1000;
}

export async function multipart(b: Bench): Promise<void> {
  await eachServer(
    b,
    'workload 5',
    async (s) => {
      const seconds = await completeOn(b, s);
      b.record.set('complete', s.name, seconds);
      b.log(`  ${s.name}: complete ${seconds.toFixed(2)} s`);
    },
    (s) => s.s3,
  );
  // The floor: the same parts as plain files on the same disk, concatenated by cat.
  const dir = join(b.runDir, 'cat');
  mkdirSync(dir, { recursive: true });
  try {
    const parts = Array.from({ length: b.o.multipartParts }, (_, i) => join(dir, `part-${String(i + 1).padStart(2, '0')}`));
    for (const p of parts) copyFileSync(b.files.part, p);
    await settle();
    const seconds = await catSeconds(parts, join(dir, 'out'));
    b.record.set('complete', 'limit', seconds);
    b.log(`  cat parts > out: ${seconds.toFixed(2)} s`);
  } catch (err) {
    b.record.note(`workload 5: cat parts > out failed: ${(err as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
