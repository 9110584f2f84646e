// A proxy's resources at one instant, with content-hash versions and a consistency check
// (every route's cluster, every EDS cluster's assignment, every RDS name present) before sending.
import { createHash } from 'node:crypto';
import { loadEnvoyProtos } from '../../xds/protos.ts';
import { pushOrder, TypeUrl, type ResourceTypeUrl } from '../../xds/type-urls.ts';

export interface NamedResource {
  name: string;
  /** The resource as a protobufjs plain object (snake_case), without '@type'. */
  body: Record<string, unknown>;
  /** The resource encoded once, as it goes on the wire inside a google.protobuf.Any. */
  encoded: Buffer;
  hash: string;
}

/** Encodes a resource with Envoy's proto for its type; a resource that cannot be encoded is a bug. */
export function encodeResource(typeUrl: ResourceTypeUrl, name: string, body: Record<string, unknown>): Buffer {
  const typeName = typeUrl.slice(typeUrl.indexOf('/') + 1);
  const type = loadEnvoyProtos().definition[typeName] as { serialize?: (v: unknown) => Buffer } | undefined;
  if (!type?.serialize) throw new Error(`no proto loaded for ${typeUrl}`);
  try {
    return type.serialize(body);
  } catch (err) {
    throw new Error(`${typeName.split('.').pop()} ${name} cannot be encoded: ${(err as Error).message}`, { cause: err });
  }
}

export interface Snapshot {
  /** Per type: resources by name, and the version of the whole set (a content hash). */
  types: Record<ResourceTypeUrl, { resources: Map<string, NamedResource>; version: string }>;
  /** Every cluster a route names (in route configurations and listeners' inline routes). */
  routeClusters: Set<string>;
}

export function resourceName(typeUrl: ResourceTypeUrl, body: Record<string, unknown>): string {
  const name = typeUrl === TypeUrl.ClusterLoadAssignment ? body.cluster_name : body.name;
  if (typeof name !== 'string' || name === '') throw new Error(`a ${typeUrl} resource has no name`);
  return name;
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value)).digest('base64url').slice(0, 16);
}

/** Version of a set of resources: a hash of their names and content hashes, order-independent. */
export function versionOf(resources: Iterable<NamedResource>): string {
  const parts = [...resources].map((r) => `${r.name}=${r.hash}`).sort();
  return hashOf(parts);
}

export function makeSnapshot(input: Record<ResourceTypeUrl, Record<string, unknown>[]>): Snapshot {
  const types = {} as Snapshot['types'];
  for (const typeUrl of pushOrder) {
    const resources = new Map<string, NamedResource>();
    for (const body of input[typeUrl] ?? []) {
      const name = resourceName(typeUrl, body);
      if (resources.has(name)) throw new Error(`duplicate ${typeUrl} resource ${name}`);
      const encoded = encodeResource(typeUrl, name, body);
      resources.set(name, { name, body, encoded, hash: hashOf(encoded) });
    }
    types[typeUrl] = { resources, version: versionOf(resources.values()) };
  }
  const routeClusters = new Set<string>();
  forEachRouteCluster(types, (_owner, cluster) => routeClusters.add(cluster));
  return { types, routeClusters };
}

type RouteClusterVisitor = (owner: string, cluster: string) => void;

function visitRouteConfig(owner: string, rc: Record<string, unknown>, visit: RouteClusterVisitor): void {
  for (const vh of (rc.virtual_hosts as Record<string, unknown>[] | undefined) ?? []) {
    for (const r of (vh.routes as Record<string, unknown>[] | undefined) ?? []) {
      const action = r.route as { cluster?: string; weighted_clusters?: { clusters: { name: string }[] } } | undefined;
      const names = action?.cluster ? [action.cluster] : action?.weighted_clusters?.clusters.map((w) => w.name) ?? [];
      for (const n of names) visit(`${owner} virtual host ${String(vh.name)}`, n);
    }
  }
}

/** Calls visit for every cluster named by a route, in route configurations and inline in listeners. */
function forEachRouteCluster(types: Snapshot['types'], visit: RouteClusterVisitor): void {
  for (const rc of types[TypeUrl.RouteConfiguration].resources.values()) visitRouteConfig(`RouteConfiguration ${rc.name}`, rc.body, visit);
  for (const l of types[TypeUrl.Listener].resources.values()) {
    for (const hcm of connectionManagers(l.body)) {
      if (hcm.route_config) visitRouteConfig(`Listener ${l.name}`, hcm.route_config as Record<string, unknown>, visit);
    }
  }
}

/** The HttpConnectionManagers of a listener: in its filter chains, or its api_listener. */
function connectionManagers(listener: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const fc of (listener.filter_chains as { filters?: { typed_config?: Record<string, unknown> }[] }[] | undefined) ?? []) {
    for (const f of fc.filters ?? []) if (f.typed_config?.['@type'] === TypeUrl.HttpConnectionManager) out.push(f.typed_config);
  }
  const api = (listener.api_listener as { api_listener?: Record<string, unknown> } | undefined)?.api_listener;
  if (api?.['@type'] === TypeUrl.HttpConnectionManager) out.push(api);
  return out;
}

/** Problems that would make a proxy route to something it was not given. Empty = consistent. */
export function consistencyErrors(snapshot: Snapshot): string[] {
  const errors: string[] = [];
  const clusters = snapshot.types[TypeUrl.Cluster].resources;
  const assignments = snapshot.types[TypeUrl.ClusterLoadAssignment].resources;
  const routes = snapshot.types[TypeUrl.RouteConfiguration].resources;
  for (const c of clusters.values()) {
    if (c.body.type === 'EDS') {
      const eds = c.body.eds_cluster_config as { service_name?: string } | undefined;
      const want = eds?.service_name || c.name;
      if (!assignments.has(want)) errors.push(`Cluster ${c.name}: no ClusterLoadAssignment ${want}`);
    }
  }
  forEachRouteCluster(snapshot.types, (owner, cluster) => {
    if (!clusters.has(cluster)) errors.push(`${owner}: route to unknown cluster ${cluster}`);
  });
  for (const l of snapshot.types[TypeUrl.Listener].resources.values()) {
    for (const hcm of connectionManagers(l.body)) {
      const rds = hcm.rds as { route_config_name?: string } | undefined;
      if (rds?.route_config_name && !routes.has(rds.route_config_name)) errors.push(`Listener ${l.name}: no RouteConfiguration ${rds.route_config_name}`);
    }
  }
  return errors;
}
