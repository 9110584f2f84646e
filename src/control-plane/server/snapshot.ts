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
  return { types };
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
  const checkRouteConfig = (owner: string, rc: Record<string, unknown>) => {
    for (const vh of (rc.virtual_hosts as Record<string, unknown>[] | undefined) ?? []) {
      for (const r of (vh.routes as Record<string, unknown>[] | undefined) ?? []) {
        const action = r.route as { cluster?: string; weighted_clusters?: { clusters: { name: string }[] } } | undefined;
        const names = action?.cluster ? [action.cluster] : action?.weighted_clusters?.clusters.map((w) => w.name) ?? [];
        for (const n of names) if (!clusters.has(n)) errors.push(`${owner} virtual host ${String(vh.name)}: route to unknown cluster ${n}`);
      }
    }
  };
  for (const rc of routes.values()) checkRouteConfig(`RouteConfiguration ${rc.name}`, rc.body);
  for (const l of snapshot.types[TypeUrl.Listener].resources.values()) {
    for (const fc of (l.body.filter_chains as { filters?: { typed_config?: Record<string, unknown> }[] }[] | undefined) ?? []) {
      for (const f of fc.filters ?? []) {
        const tc = f.typed_config;
        if (!tc || tc['@type'] !== TypeUrl.HttpConnectionManager) continue;
        const rds = tc.rds as { route_config_name?: string } | undefined;
        if (rds?.route_config_name && !routes.has(rds.route_config_name)) errors.push(`Listener ${l.name}: no RouteConfiguration ${rds.route_config_name}`);
        if (tc.route_config) checkRouteConfig(`Listener ${l.name}`, tc.route_config as Record<string, unknown>);
      }
    }
  }
  return errors;
}
