// Data-plane workers logging to one access log file: each worker has its own writer on the file
// (opened for appending) and writes whole lines only, so every exchange gets exactly one whole line.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { silentLogger } from '../../../src/common/log.ts';
import { releaseSharedPort, reserveSharedPort } from '../../../src/proxy/workers/shared-ports.ts';
import { WorkerPool } from '../../../src/proxy/workers/worker-pool.ts';
import { fileAccessLog, linesWhen, tempLogDir } from '../access-log-support.ts';
import { send } from '../support/client.ts';
import { httpListener, routeConfig, virtualHost } from '../support/resources.ts';

const logs = tempLogDir();
const file = logs.file('workers.log');
let pool: WorkerPool;
let port = 0;

before(async () => {
  const reserved: net.Server = await reserveSharedPort('127.0.0.1', 0);
  port = (reserved.address() as net.AddressInfo).port;
  pool = new WorkerPool({
    concurrency: 2, logger: silentLogger, nodeId: 'test.default', nodeMetadata: {},
    reserved: [{ host: '127.0.0.1', port }], onFatal: (reason) => assert.fail(reason),
  });
  await pool.start();
  await releaseSharedPort(reserved);
  const routes = routeConfig('none', [virtualHost('none', ['*'], [])]);
  const format = { json_format: { path: '%REQ(:PATH)%', agent: '%REQ(USER-AGENT)%', flags: '%RESPONSE_FLAGS%' } };
  await pool.updateListeners([httpListener('logged', { port, routeConfig: routes, hcm: { access_log: [fileAccessLog(file, format)] } })]);
});

after(async () => {
  await pool?.close();
  logs.remove();
});

it('writes one whole line per request from every worker', async () => {
  const n = 200;
  // A long header value makes each line large enough that a torn write would show.
  const agent = 'w'.repeat(4000);
  await Promise.all(Array.from({ length: n }, (_v, i) => send(port, `/r/${i}`, { headers: { 'user-agent': agent } })));
  const accepted = (await pool.info()).map((w) => w.downstreamCxTotal);
  assert.ok(accepted.every((c) => c > 0), `both workers served: ${JSON.stringify(accepted)}`);
  const lines = await linesWhen(file, (ls) => ls.length >= n);
  assert.equal(lines.length, n);
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(parsed.map((l) => l.path).sort(), Array.from({ length: n }, (_v, i) => `/r/${i}`).sort());
  assert.ok(parsed.every((l) => l.agent === agent && l.flags === 'NR'));
});
