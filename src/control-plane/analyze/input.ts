// Builds the input of an analysis from Istio resources: the registry's snapshot of the mesh is
// built from the same resources (so a ServiceEntry or WorkloadEntry given with `weft analyze -f`
// counts) and from the sidecars that registered with the control plane.
import { isKind, type IstioResource } from '../../api/index.ts';
import type { ProxyMetadata } from '../../xds/node-metadata.ts';
import type { MeshConfig } from '../registry/model.ts';
import { buildMeshSnapshot } from '../registry/registry.ts';
import type { AnalysisInput, SchemaError } from './context.ts';

export function analysisInput(options: {
  resources: readonly IstioResource[];
  config: MeshConfig;
  proxies?: Map<string, ProxyMetadata>;
  sources?: ReadonlyMap<string, string>;
  schemaErrors?: readonly SchemaError[];
}): AnalysisInput {
  const all = options.resources;
  const mesh = buildMeshSnapshot({
    config: options.config,
    serviceEntries: all.filter((r) => isKind(r, 'ServiceEntry')),
    workloadEntries: all.filter((r) => isKind(r, 'WorkloadEntry')),
    virtualServices: all.filter((r) => isKind(r, 'VirtualService')),
    destinationRules: all.filter((r) => isKind(r, 'DestinationRule')),
    gateways: all.filter((r) => isKind(r, 'Gateway')),
    proxies: options.proxies ?? new Map(),
  });
  return { resources: options.resources, mesh, sources: options.sources, schemaErrors: options.schemaErrors };
}
