// The contract with the control plane's generator: every config in its golden files
// (test/golden/generate/*/expected.json) is accepted by the data plane as it stands.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { Harness } from './support/harness.ts';

const goldenDir = join(import.meta.dirname, '..', 'golden', 'generate');
const cases = existsSync(goldenDir) ? readdirSync(goldenDir).filter((d) => existsSync(join(goldenDir, d, 'expected.json'))) : [];
const harnesses: Harness[] = [];

after(async () => {
  for (const h of harnesses) await h.close();
});

type Listener = { address?: { socket_address?: { port_value?: number } } };
type DnsCluster = { type?: string; load_assignment?: { endpoints?: { lb_endpoints?: { endpoint?: Listener & { address?: { socket_address?: { address?: string } } } }[] }[] } };

describe('generated config', () => {
  for (const name of cases) {
    it(`accepts the golden output "${name}"`, async () => {
      const { resources } = JSON.parse(readFileSync(join(goldenDir, name, 'expected.json'), 'utf8')) as { resources: Record<string, object[]> };
      // Bind ephemeral ports instead of the sidecar's fixed ones.
      const listeners = (resources[TypeUrl.Listener] ?? []).map((l) => {
        const copy = structuredClone(l) as Listener;
        if (copy.address?.socket_address) copy.address.socket_address.port_value = 0;
        return copy;
      });
      // DNS clusters resolve their names at once: point them at localhost, so no query leaves the machine.
      const clusters = (resources[TypeUrl.Cluster] ?? []).map((c) => {
        const copy = structuredClone(c) as DnsCluster;
        if (copy.type === 'STRICT_DNS' || copy.type === 'LOGICAL_DNS') {
          let n = 0;
          for (const group of copy.load_assignment?.endpoints ?? []) {
            for (const e of group.lb_endpoints ?? []) {
              const sa = e.endpoint?.address?.socket_address;
              if (sa) Object.assign(sa, { address: 'localhost', port_value: 40000 + n++ });
            }
          }
        }
        return copy;
      });
      const harness = new Harness();
      harnesses.push(harness);
      await harness.apply({
        clusters,
        endpoints: resources[TypeUrl.ClusterLoadAssignment] ?? [],
        listeners,
        routes: resources[TypeUrl.RouteConfiguration] ?? [],
      });
      assert.equal(harness.dataPlane.listenerAddresses().length, listeners.length);
    });
  }
});
