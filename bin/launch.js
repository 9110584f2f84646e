// How bin/weft.js starts: which code it runs (compiled dist/ or the TypeScript sources) and the V8
// flags the sidecar re-executes itself with. Plain JavaScript: it runs before anything is compiled.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The sidecar's heap: semi-spaces of at most 8 MiB instead of V8's 16 MiB. Per-request objects still
 * die young at this size, and a sidecar holds ~15 MB less, idle and under load (docs/benchmarks.md).
 * At 4 MiB a burst of requests promotes objects still in flight to the old generation, which then
 * grows by tens of MB before a full collection.
 */
export const proxyV8Flags = ['--max-semi-space-size=8'];

/**
 * The argv to re-execute `weft proxy` with (same PID: process.execve) so that proxyV8Flags apply,
 * or null when they cannot or need not: another command, no execve, or the operator chose a
 * semi-space size already (node flags or NODE_OPTIONS), which includes a process already re-executed.
 */
export function proxyReexecArgv(args, execPath, execArgv, script, nodeOptions, canExec) {
  if (args[0] !== 'proxy' || !canExec) return null;
  if ([...execArgv, nodeOptions ?? ''].some((flag) => flag.includes('semi-space'))) return null;
  return [execPath, ...proxyV8Flags, ...execArgv, script, ...args];
}

/** The latest modification time (ms) of a .ts file under `dir`. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** `root`/dist was built (dist/.built, written last by scripts/build.ts) after the last change to src/ and package.json. */
export function distIsFresh(root) {
  try {
    const built = statSync(join(root, 'dist', '.built')).mtimeMs;
    return built >= newestSource(join(root, 'src')) && built >= statSync(join(root, 'package.json')).mtimeMs;
  } catch {
    return false;
  }
}
