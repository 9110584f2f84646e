// Helpers for the analyzer tests: resources from YAML, an analysis input built as the control
// plane builds it (registry snapshot included), and findings as the lines `weft analyze` prints.
import assert from 'node:assert/strict';
import { parseManifests } from '../../../src/api/index.ts';
import { analysisInput, analyze, type Analyzer } from '../../../src/control-plane/analyze/index.ts';
import { defaultMeshConfig } from '../../../src/control-plane/registry/model.ts';
import type { ProxyMetadata } from '../../../src/xds/node-metadata.ts';

export function resources(yaml: string) {
  const { resources: out, errors } = parseManifests(yaml);
  assert.deepEqual(errors.map(String), [], 'test resources must be valid');
  return out;
}

export interface RunOptions {
  proxies?: Map<string, ProxyMetadata>;
  namespace?: string;
  analyzers?: readonly Analyzer[];
}

/** The findings of `analyzers` (default: all) about the resources in `yaml`, as `weft analyze` lines. */
export function findings(yaml: string, options: RunOptions = {}): string[] {
  const input = analysisInput({ resources: resources(yaml), config: defaultMeshConfig, proxies: options.proxies });
  return analyze(input, { namespace: options.namespace, analyzers: options.analyzers })
    .map((f) => `${f.level} [${f.code}] (${f.origin}${f.reference ? ` ${f.reference}` : ''}) ${f.message}`);
}

/** A ServiceEntry `name` in `namespace` for `host`, STATIC, with `ports` and inline endpoints. */
export function serviceEntry(name: string, host: string, options: {
  namespace?: string; ports?: number[]; exportTo?: string[]; endpoints?: Record<string, string>[]; resolution?: string;
} = {}): string {
  const ports = (options.ports ?? [9080]).map((p) => `{ number: ${p}, name: http-${p}, protocol: HTTP }`).join(', ');
  const endpoints = (options.endpoints ?? []).map((labels, i) => `{ address: 10.0.0.${i + 1}, labels: ${JSON.stringify(labels)} }`).join(', ');
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${options.namespace ?? 'default'} }
spec:
  hosts: ["${host}"]
  resolution: ${options.resolution ?? 'STATIC'}
  ports: [${ports}]
${endpoints ? `  endpoints: [${endpoints}]\n` : ''}${options.exportTo ? `  exportTo: ${JSON.stringify(options.exportTo)}\n` : ''}---
`;
}

/** `spec` (YAML, any common indentation) indented by two spaces under `spec:`. */
function specBlock(spec: string): string {
  const lines = spec.replace(/^\n/, '').replace(/\s+$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => `  ${l.slice(indent)}`).join('\n');
}

/** A VirtualService `name` in `namespace` with the given spec (YAML). */
export function virtualService(name: string, spec: string, namespace = 'default'): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${specBlock(spec)}
---
`;
}

export function destinationRule(name: string, spec: string, namespace = 'default'): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${specBlock(spec)}
---
`;
}
