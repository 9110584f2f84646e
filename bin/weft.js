#!/usr/bin/env node
// Entry point of the `weft` command. It runs the JavaScript that `npm run build` compiled into dist/
// (`npm ci` builds it) while that is newer than every source file, else the TypeScript sources
// directly on Node.js 24: the same code either way, but compiled JavaScript starts faster and leaves
// out the memory the type stripper keeps. `weft proxy` first re-executes itself with the sidecar's
// V8 flags (bin/launch.js).
import { fileURLToPath } from 'node:url';
import { distIsFresh, proxyReexecArgv } from './launch.js';

const args = process.argv.slice(2);
const reexec = proxyReexecArgv(args, process.execPath, process.execArgv, fileURLToPath(import.meta.url), process.env.NODE_OPTIONS,
  typeof process.execve === 'function');
if (reexec !== null) process.execve(process.execPath, reexec, process.env);

const { main } = await import(distIsFresh(fileURLToPath(new URL('..', import.meta.url))) ? '../dist/src/cli/main.js' : '../src/cli/main.ts');
await main(args);
