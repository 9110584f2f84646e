// bin/weft.js: which code runs (compiled dist/ only while it is newer than every source) and the V8
// flags `weft proxy` re-executes itself with, on a real process.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: plain JavaScript without types (it runs before anything is compiled)
import { distIsFresh, proxyReexecArgv, proxyV8Flags } from '../../bin/launch.js';
import { weftBin } from '../harness/mesh.ts';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

async function tree(builtAt: number | null, sourceAt: number): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'weft-launch-'));
  dirs.push(root);
  await mkdir(join(root, 'src/proxy'), { recursive: true });
  await writeFile(join(root, 'package.json'), '{}');
  await writeFile(join(root, 'src/proxy/a.ts'), '');
  const old = new Date(sourceAt - 60_000);
  await utimes(join(root, 'package.json'), old, old);
  await utimes(join(root, 'src/proxy/a.ts'), new Date(sourceAt), new Date(sourceAt));
  if (builtAt !== null) {
    await mkdir(join(root, 'dist'), { recursive: true });
    await writeFile(join(root, 'dist/.built'), '');
    await utimes(join(root, 'dist/.built'), new Date(builtAt), new Date(builtAt));
  }
  return root;
}

describe('which code bin/weft.js runs', () => {
  const now = Date.now();
  it('runs dist/ when it was built after the last source change', async () => {
    assert.equal(distIsFresh(await tree(now, now - 10_000)), true);
  });
  it('runs the sources when a source file changed after the build', async () => {
    assert.equal(distIsFresh(await tree(now - 10_000, now)), false);
  });
  it('runs the sources when nothing was built', async () => {
    assert.equal(distIsFresh(await tree(null, now)), false);
  });
});

describe('the sidecar\'s V8 flags', () => {
  it('re-executes `weft proxy` with them, keeping node flags and arguments', () => {
    assert.deepEqual(proxyReexecArgv(['proxy', '--labels', 'app=a'], '/node', ['--enable-source-maps'], '/w.js', undefined, true),
      ['/node', ...proxyV8Flags, '--enable-source-maps', '/w.js', 'proxy', '--labels', 'app=a']);
  });
  it('leaves other commands, and a semi-space size the operator chose, alone', () => {
    assert.equal(proxyReexecArgv(['control-plane'], '/node', [], '/w.js', undefined, true), null);
    assert.equal(proxyReexecArgv(['proxy'], '/node', ['--max-semi-space-size=8'], '/w.js', undefined, true), null);
    assert.equal(proxyReexecArgv(['proxy'], '/node', [], '/w.js', '--max-semi-space-size=16', true), null);
    assert.equal(proxyReexecArgv(['proxy'], '/node', [], '/w.js', undefined, false), null);
  });
  it('a started sidecar runs with them under the PID it was started with', async () => {
    // A sidecar whose control plane is not there keeps trying: long enough to read its command line.
    const child = spawn(process.execPath, [weftBin, 'proxy', '--xds-address', '127.0.0.1:1', '--plaintext-xds', '--admin-address', '127.0.0.1:0',
      '--outbound-port', '0'], { stdio: 'ignore' });
    try {
      let cmdline = '';
      const deadline = Date.now() + 20_000;
      while (!cmdline.includes('semi-space') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
      }
      assert.match(cmdline, /--max-semi-space-size=8 .*weft\.js proxy --xds-address/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
