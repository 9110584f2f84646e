// Golden files: Istio YAML in -> Envoy resources out, for one proxy. Each folder under
// test/golden/generate/ holds input.yaml, proxy.json (the proxy's node metadata) and expected.json.
// Rewrite the expectations on purpose with UPDATE_GOLDEN=1 and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifests } from '../../../src/api/index.ts';
import { generateProxyConfig } from '../../../src/control-plane/generate/index.ts';
import { buildMeshSnapshot } from '../../../src/control-plane/registry/registry.ts';
import { defaultMeshConfig } from '../../../src/control-plane/registry/model.ts';
import type { ProxyMetadata } from '../../../src/xds/node-metadata.ts';
import { consistencyErrors, makeSnapshot } from '../../../src/control-plane/server/snapshot.ts';

const root = fileURLToPath(new URL('../../golden/generate/', import.meta.url));

for (const name of readdirSync(root).sort()) {
  test(`generated Envoy config matches the golden file: ${name}`, () => {
    const dir = join(root, name);
    const { resources, errors } = parseManifests(readFileSync(join(dir, 'input.yaml'), 'utf8'), { source: `${name}/input.yaml` });
    assert.deepEqual(errors.map((e) => e.text), []);
    const proxies = JSON.parse(readFileSync(join(dir, 'proxy.json'), 'utf8')) as { id: string; metadata: ProxyMetadata }[];
    const of = (kind: string) => resources.filter((r) => r.kind === kind) as any[];
    const mesh = buildMeshSnapshot({
      config: defaultMeshConfig,
      serviceEntries: of('ServiceEntry'),
      workloadEntries: of('WorkloadEntry'),
      virtualServices: of('VirtualService'),
      destinationRules: of('DestinationRule'),
      gateways: of('Gateway'),
      proxies: new Map(proxies.map((p) => [p.id, p.metadata])),
    });
    mesh.peerAuthentications = of('PeerAuthentication');
    mesh.authorizationPolicies = of('AuthorizationPolicy');
    mesh.requestAuthentications = of('RequestAuthentication');
    mesh.telemetries = of('Telemetry');
    const generated = generateProxyConfig(mesh, proxies[0]);
    assert.deepEqual(consistencyErrors(makeSnapshot(generated.resources)), [], 'generated config must be self-consistent');
    const actual = JSON.parse(JSON.stringify(generated));
    const file = join(dir, 'expected.json');
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
      writeFileSync(file, JSON.stringify(actual, null, 2) + '\n');
      if (process.env.UPDATE_GOLDEN !== '1') assert.fail(`${file} did not exist; written now — review it and run again`);
    }
    assert.deepEqual(actual, JSON.parse(readFileSync(file, 'utf8')));
  });
}
