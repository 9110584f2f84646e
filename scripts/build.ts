// `npm run build` (also run by `npm ci` through `prepare`): compiles src/ to JavaScript in dist/ so
// that the processes a user runs (the sidecar above all) start without stripping TypeScript at load
// time, which costs memory and start-up time. bin/weft.js runs dist/ only while dist/.built is newer
// than every source file (bin/launch.js); the sources stay runnable as they are.
//
// The build goes to dist.tmp/ and replaces dist/ with one rename, so a process starting meanwhile
// finds the old build or the new one, never half of one. dist/.built is dated when the build
// started (the newest source then), so a source saved while tsc ran makes the build stale at once.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
if (!existsSync(tsc)) {
  // An install without dev dependencies (npm ci --omit=dev): weft runs the TypeScript sources.
  console.log('build: TypeScript is not installed; weft will run the sources in src/ directly');
  process.exit(0);
}
// A second early: file times are coarse on some file systems.
const startedAt = (Date.now() - 1000) / 1000;
const dist = join(root, 'dist');
const next = join(root, 'dist.tmp');
rmSync(next, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', next], { stdio: 'inherit' });
// src/common/version.ts reads ../../package.json, which from dist/src/common is this copy.
copyFileSync(join(root, 'package.json'), join(next, 'package.json'));
writeFileSync(join(next, '.built'), `${new Date().toISOString()}\n`);
utimesSync(join(next, '.built'), startedAt, startedAt);
const old = join(root, 'dist.old');
rmSync(old, { recursive: true, force: true });
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
