// The Node floor: the least a Node.js server does to store objects as files, the yardstick beside
// sluice (none of sluice's code). PUT /b/k streams the body to a temp file on the same filesystem
// while hashing MD5, renames it into place and answers its ETag; GET streams the file, HEAD stats
// it, DELETE unlinks it; PUT /b makes the directory. No metadata, listings or multipart.
// `node node-floor.js ROOT PORT`
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const [root = '.', port = '0'] = process.argv.slice(2);
const tmp = join(root, '.floor-tmp');
mkdirSync(tmp, { recursive: true });
let temps = 0;

/** The file of /bucket[/key], or undefined for a path that could leave ROOT or reach .floor-tmp. */
function fileOf(url: string): { file: string; isBucket: boolean } | undefined {
  const segments = (url.split('?')[0] ?? '').split('/').slice(1).map(decodeURIComponent);
  const bucket = segments[0];
  if (bucket === undefined || bucket.startsWith('.') || segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return { file: join(root, ...segments), isBucket: segments.length === 1 };
}

async function put(req: IncomingMessage, file: string): Promise<string> {
  const temp = join(tmp, `${process.pid}-${temps++}`);
  const hash = createHash('md5');
  try {
    await pipeline(req, async function* (body: AsyncIterable<Buffer>) {
      for await (const chunk of body) {
        hash.update(chunk);
        yield chunk;
      }
    }, createWriteStream(temp));
    // The directory is made only when the rename says it is missing.
    await rename(temp, file).catch(async () => {
      await mkdir(dirname(file), { recursive: true });
      await rename(temp, file);
    });
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  return `"${hash.digest('hex')}"`;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = fileOf(req.url ?? '/');
  if (target === undefined) return void res.writeHead(404, { 'content-length': 0 }).end();
  const { file, isBucket } = target;
  if (req.method === 'PUT' && isBucket) await mkdir(file, { recursive: true });
  else if (req.method === 'PUT') return void res.writeHead(200, { etag: await put(req, file), 'content-length': 0 }).end();
  else if (req.method === 'DELETE') await unlink(file);
  else if (req.method === 'GET' || req.method === 'HEAD') {
    const st = await stat(file);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
    res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
    return req.method === 'HEAD' ? void res.end() : pipeline(createReadStream(file), res);
  } else return void res.writeHead(405, { 'content-length': 0 }).end();
  res.writeHead(req.method === 'DELETE' ? 204 : 200, { 'content-length': 0 }).end();
}

const server = createServer({ requestTimeout: 0 }, (req, res) => {
  handle(req, res).catch((err: NodeJS.ErrnoException) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(err.code === 'ENOENT' || err.code === 'ENOTDIR' ? 404 : 500, { 'content-length': 0, connection: 'close' }).end();
  });
});
server.listen(Number(port), '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
