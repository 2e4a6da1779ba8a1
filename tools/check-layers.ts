// `make lint`: the layers of source/ and who may import whom, checked over the import graph. A
// folder imports only the folders its row names, so no import runs back up and no two folders
// import each other. README's "Architecture" section shows the same table.
//
// Usage: node dist/tools/check-layers.js [SOURCE_DIR]   (exit 1 and one line per violation)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { preProcessFile } from 'typescript';

/** Each folder of source/, lowest first, and the folders it may import. */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  metrics: [],
  log: [],
  config: ['errors', 'log'],
  streams: ['errors'],
  http: ['errors', 'metrics', 'log'],
  namespace: ['errors', 'config', 'streams', 'metrics', 'log'],
  auth: ['errors', 'streams', 'http'],
  s3: ['errors', 'config', 'streams', 'http', 'namespace', 'auth'],
  cli: ['errors', 'metrics', 'log', 'config', 'streams', 'http', 'namespace', 'auth', 's3'],
};

function* typeScriptFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* typeScriptFiles(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

/** The folder of source/ a path lies in ('' for a file at its top). */
function folderOf(sourceDir: string, path: string): string {
  const parts = relative(sourceDir, path).split(sep);
  return parts.length > 1 ? parts[0]! : '';
}

/** Every import (and re-export) of source/ that its folder's row does not allow. */
export function layerViolations(sourceDir: string): string[] {
  const root = resolve(sourceDir);
  const problems: string[] = [];
  for (const file of typeScriptFiles(root)) {
    const from = folderOf(root, file);
    const allowed = LAYERS[from];
    const shown = relative(dirname(root), file);
    if (allowed === undefined) {
      problems.push(`${shown}: folder "${from}" has no row in the layer table (tools/check-layers.ts)`);
      continue;
    }
    for (const { fileName } of preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue; // node: modules and packages
      const target = resolve(dirname(file), fileName);
      if (target !== root && !target.startsWith(root + sep)) {
        problems.push(`${shown} imports ${fileName}, outside source/`);
        continue;
      }
      const to = relative(root, target).split(sep)[0]!;
      if (to === from || allowed.includes(to)) continue;
      problems.push(`${shown} imports ${fileName}: ${from}/ may import only ${allowed.length > 0 ? allowed.join(', ') : 'nothing of sluice'}`);
    }
  }
  return problems;
}

/** A table that allowed a cycle would let two folders import each other. */
export function tableCycles(): string[] {
  const cycles: string[] = [];
  const visit = (folder: string, path: string[]): void => {
    for (const next of LAYERS[folder] ?? []) {
      if (path.includes(next)) cycles.push([...path, next].join(' -> '));
      else visit(next, [...path, next]);
    }
  };
  for (const folder of Object.keys(LAYERS)) visit(folder, [folder]);
  return cycles;
}

if (require.main === module) {
  const sourceDir = process.argv[2] ?? resolve(__dirname, '..', '..', 'source');
  const problems = [...tableCycles().map((c) => `the layer table has a cycle: ${c}`), ...layerViolations(sourceDir)];
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  if (problems.length > 0) {
    process.stderr.write(`check-layers: ${problems.length} import(s) break the layers\n`);
    process.exit(1);
  }
  process.stdout.write(`check-layers: ${Object.keys(LAYERS).length} layers, no import runs back up\n`);
}
