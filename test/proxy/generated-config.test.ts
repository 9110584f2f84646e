// The contract with the control plane's generator: every config in its golden files
// (test/golden/generate/*/expected.json) is accepted by the data plane as it stands.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { Harness } from './support/harness.ts';
import { makeCertificateAuthority, type TestCertificateAuthority } from './support/tls-certs.ts';

const goldenDir = join(import.meta.dirname, '..', 'golden', 'generate');
const cases = existsSync(goldenDir) ? readdirSync(goldenDir).filter((d) => existsSync(join(goldenDir, d, 'expected.json'))) : [];
const harnesses: Harness[] = [];
let ca: TestCertificateAuthority;
/** Certificate files the golden configs name (gateway certificates) → real files of a test CA. */
const files = { cert: '', key: '', ca: '' };

before(async () => {
  ca = await makeCertificateAuthority();
  const leaf = await ca.issue('gateway.example.com', ['DNS:gateway.example.com']);
  Object.assign(files, { cert: join(ca.dir, 'golden.pem'), key: join(ca.dir, 'golden-key.pem'), ca: join(ca.dir, 'golden-ca.pem') });
  await Promise.all([writeFile(files.cert, leaf.cert), writeFile(files.key, leaf.key), writeFile(files.ca, ca.caCert)]);
});

after(async () => {
  for (const h of harnesses) await h.close();
  await ca?.remove();
});

/** A copy with every DataSource `filename` pointed at the test CA's files (keys, CAs and certificates by name). */
function withTestFiles<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withTestFiles) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === 'filename' && typeof v === 'string'
      ? (v.endsWith('-key.pem') ? files.key : /ca\.pem$/.test(v) ? files.ca : files.cert)
      : withTestFiles(v);
  }
  return out as T;
}

type Listener = { address?: { socket_address?: { port_value?: number } } };
type DnsCluster = { type?: string; load_assignment?: { endpoints?: { lb_endpoints?: { endpoint?: Listener & { address?: { socket_address?: { address?: string } } } }[] }[] } };

describe('generated config', () => {
  for (const name of cases) {
    it(`accepts the golden output "${name}"`, async () => {
      const { resources } = withTestFiles(JSON.parse(readFileSync(join(goldenDir, name, 'expected.json'), 'utf8')) as { resources: Record<string, object[]> });
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
