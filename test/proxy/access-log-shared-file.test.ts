// Several listeners logging to one file share its writer: under concurrent requests every exchange
// gets exactly one whole line, none torn or interleaved with another.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileAccessLog, linesWhen, tempLogDir } from './access-log-support.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, routeConfig, virtualHost } from './support/resources.ts';

const logs = tempLogDir();
const shared = logs.file('shared.log');
const harness = new Harness();

before(async () => {
  const routes = routeConfig('none', [virtualHost('none', ['*'], [])]);
  const format = (listener: string) => ({ json_format: { listener, path: '%REQ(:PATH)%', agent: '%REQ(USER-AGENT)%', flags: '%RESPONSE_FLAGS%' } });
  await harness.apply({
    listeners: [
      httpListener('first', { routeConfig: routes, hcm: { access_log: [fileAccessLog(shared, format('first'))] } }),
      httpListener('second', { routeConfig: routes, hcm: { access_log: [fileAccessLog(shared, format('second'))] } }),
    ],
  });
});

after(async () => {
  await harness.close();
  logs.remove();
});

describe('access logs sharing a file', () => {
  it('writes one whole line per request from every listener', async () => {
    const n = 100;
    // A long header value makes each line large enough that a torn write would show.
    const agent = 'a'.repeat(2000);
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      requests.push(send(harness.port('first'), `/first/${i}`, { headers: { 'user-agent': agent } }));
      requests.push(send(harness.port('second'), `/second/${i}`, { headers: { 'user-agent': agent } }));
    }
    await Promise.all(requests);
    const lines = await linesWhen(shared, (ls) => ls.length >= 2 * n);
    assert.equal(lines.length, 2 * n);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const listener of ['first', 'second']) {
      const paths = parsed.filter((l) => l.listener === listener).map((l) => l.path).sort();
      assert.deepEqual(paths, Array.from({ length: n }, (_v, i) => `/${listener}/${i}`).sort());
    }
    assert.ok(parsed.every((l) => l.agent === agent && l.flags === 'NR'));
  });
});
