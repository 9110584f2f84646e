// How soon a sidecar serves: a `weft proxy` (outbound only) started again and again against a
// control plane that is already running, timed from the spawn to its ready line and to the first
// request it forwarded with success (polled every few ms). The token is made before the clock starts.
import { weftBin, type Mesh } from '../test/harness/mesh.ts';
import { startProcess, stopProcess, waitFor } from '../test/harness/process.ts';
import { answers } from './probe.ts';
import { serviceHost } from './service.ts';
import { median } from './summary.ts';

export interface Readiness {
  starts: number;
  /** Medians over the starts, in ms. */
  readyLineMs: number;
  firstRequestMs: number;
  /** Each start's figures, in ms. */
  each: { readyLineMs: number; firstRequestMs: number }[];
}

export async function measureReadiness(mesh: Mesh, starts: number, log: (line: string) => void): Promise<Readiness> {
  const each: Readiness['each'] = [];
  for (let i = 0; i < starts; i++) {
    const name = `ready-probe-${i}`;
    const args = [weftBin, 'proxy', '--xds-address', `127.0.0.1:${mesh.xdsPort}`, '--admin-address', '127.0.0.1:0',
      '--namespace', 'default', '--workload-name', name, '--node-id', `${name}.default`, '--labels', 'app=client',
      ...await mesh.xdsArgs('default', 'default'), '--outbound-port', '0'];
    const t0 = performance.now();
    const proxy = await startProcess<{ outboundPort: number }>(`proxy ${name}`, args);
    const readyLineMs = performance.now() - t0;
    try {
      await waitFor(`a request through ${name}`, () => answers(proxy.ready.outboundPort, serviceHost).catch(() => false), 10_000, 2);
      const firstRequestMs = performance.now() - t0;
      each.push({ readyLineMs, firstRequestMs });
      log(`readiness ${i + 1}/${starts}: ready line ${readyLineMs.toFixed(0)} ms, first request ${firstRequestMs.toFixed(0)} ms`);
    } finally {
      await stopProcess(proxy);
    }
  }
  return {
    starts,
    readyLineMs: median(each.map((e) => e.readyLineMs)),
    firstRequestMs: median(each.map((e) => e.firstRequestMs)),
    each,
  };
}
