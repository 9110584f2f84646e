// `npm run build` (also run by `npm ci` through `prepare`): compiles src/ to JavaScript in dist/ so
// that the processes a user runs (the sidecar above all) start without stripping TypeScript at load
// time, which costs memory and start-up time. bin/weft.js runs dist/ only while it is newer than
// every source file; the sources stay runnable as they are.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
// src/common/version.ts reads ../../package.json, which from dist/src/common is this copy.
copyFileSync(join(root, 'package.json'), join(dist, 'package.json'));
// Written last: its time is when the build finished.
writeFileSync(join(dist, '.built'), `${new Date().toISOString()}\n`);
