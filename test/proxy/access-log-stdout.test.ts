// An access log at /dev/stdout (Istio's default accessLogFile): the lines reach the proxy process's
// standard output. The proxy runs as a real child process whose stdout the test reads.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempLogDir } from './access-log-support.ts';
import { send } from './support/client.ts';
import { waitFor } from './support/wait.ts';

const dir = tempLogDir();
const children: ChildProcess[] = [];

after(() => {
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  dir.remove();
});

const support = (name: string) => pathToFileURL(path.resolve(import.meta.dirname, 'support', name)).href;

// A proxy with one listener whose access log writes to /dev/stdout; it prints its port as a JSON line.
const script = `
import { Harness } from ${JSON.stringify(support('harness.ts'))};
import { httpListener, routeConfig, virtualHost } from ${JSON.stringify(support('resources.ts'))};
const harness = new Harness();
const accessLog = [{
  name: 'envoy.access_loggers.file',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
    path: '/dev/stdout',
    log_format: { json_format: { path: '%REQ(:PATH)%', response_code: '%RESPONSE_CODE%', response_flags: '%RESPONSE_FLAGS%' } },
  },
}];
await harness.apply({ listeners: [httpListener('stdout', { routeConfig: routeConfig('r', [virtualHost('v', ['*'], [])]), hcm: { access_log: accessLog } })] });
process.stdout.write(JSON.stringify({ ready: true, port: harness.port() }) + '\\n');
`;

describe('access log to /dev/stdout', () => {
  it('writes the lines to the proxy\'s standard output', async () => {
    const file = dir.file('proxy.ts');
    fs.writeFileSync(file, script);
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const ready = await waitFor('the proxy to be ready', () => ({ lines: lines(), err }), (v) => v.lines.some((l) => l.ready === true), 15_000);
    const port = Number(ready.lines.find((l) => l.ready === true)!.port);
    assert.equal((await send(port, '/to-stdout')).status, 404);
    const seen = await waitFor('the access log line on stdout', lines, (ls) => ls.some((l) => l.path === '/to-stdout'));
    assert.deepEqual(seen.find((l) => l.path === '/to-stdout'), { path: '/to-stdout', response_code: 404, response_flags: 'NR' });
  });
});
