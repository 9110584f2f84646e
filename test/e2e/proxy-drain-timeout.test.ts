// `weft proxy --drain-timeout-ms`: on SIGTERM a sidecar lets a request already in flight finish for as
// long as the flag says (here past the 5 s default), then exits 0, with one data-plane thread and with
// two workers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeakedProcesses } from '../harness/process.ts';
import { Scenario, backendScript, httpCall } from './traffic/scenario.ts';

let s: Scenario;

before(async () => {
  s = await Scenario.start();
  await s.applyFile('services.yaml');
});

after(async () => {
  await s?.stop();
  assertNoLeakedProcesses();
});

for (const concurrency of [1, 2]) {
  test(`a request in flight at SIGTERM finishes after 5 s with --drain-timeout-ms 9000 (--concurrency ${concurrency})`, async () => {
    // The app answers after 6 s: longer than the default drain bound, shorter than the one given.
    const app = await s.mesh.startApp(`slow app ${concurrency}`, backendScript, ['--name', 'web', '--version', 'v1', '--delay-ms', '6000']);
    const proxy = await s.mesh.startProxy({
      name: `web-slow-${concurrency}`, labels: { app: 'web', version: 'v1' }, inbound: [{ servicePort: 8080, appPort: app.ready.port }],
      outbound: false, extraArgs: ['--drain-timeout-ms', '9000', '--concurrency', String(concurrency)],
    });
    const inFlight = httpCall(proxy.ready.inbound[0].port, '/', { host: 'web:8080' });
    // SIGTERM once the request has reached the app (it counts what it received).
    await new Promise((resolve) => setTimeout(resolve, 500));
    proxy.child.kill('SIGTERM');
    const reply = await inFlight;
    assert.equal(reply.status, 200);
    assert.equal(await proxy.exited, 0);
  });
}
