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
      const harness = new Harness();
      harnesses.push(harness);
      await harness.apply({
        clusters: resources[TypeUrl.Cluster] ?? [],
        endpoints: resources[TypeUrl.ClusterLoadAssignment] ?? [],
        listeners,
        routes: resources[TypeUrl.RouteConfiguration] ?? [],
      });
      assert.equal(harness.dataPlane.listenerAddresses().length, listeners.length);
    });
  }
});
