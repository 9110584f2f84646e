// envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy → its spec: the upstream cluster (`cluster`,
// or `weighted_clusters` split by weight per connection), idle_timeout, max_connect_attempts and a
// source_ip hash_policy.
import {
  FieldPath, checkFields, durationMs, integer, message, optionalMessage, repeated, requiredString, string, uintWrapper,
  type Message,
} from '../upstream/envoy-config.ts';
import type { ObserverContext } from '../http/stream-observers.ts';
import { compileTcpObservers, tcpObserverFields, type TcpObserver } from './tcp-observers.ts';

export type TcpProxySpec = {
  statPrefix: string;
  /** The upstream cluster of each connection. */
  clusters: ClusterChoice;
  /** 0: none. */
  idleTimeoutMs: number;
  /** Connection attempts per downstream connection (each to an endpoint picked anew); at least 1. */
  maxConnectAttempts: number;
  /** hash_policy source_ip: the downstream address is the load balancer's hash key. */
  hashSourceIp: boolean;
  /** Access logs, metrics (tcp-observers.ts): built per tcp_proxy filter. */
  observers: ((context: ObserverContext) => TcpObserver)[];
};

/** Picks the cluster of a connection: one cluster, or one of weighted_clusters at random by weight. */
export class ClusterChoice {
  readonly names: readonly string[];
  /** Running sums of the weights (empty for a single cluster). */
  private readonly cumulative: readonly number[];
  private readonly total: number;

  constructor(clusters: { name: string; weight: number }[]) {
    this.names = clusters.map((c) => c.name);
    let sum = 0;
    this.cumulative = clusters.length > 1 ? clusters.map((c) => (sum += c.weight)) : [];
    this.total = sum;
  }

  pick(): string {
    if (this.cumulative.length === 0) return this.names[0];
    const r = Math.floor(Math.random() * this.total);
    const sums = this.cumulative;
    for (let i = 0; i < sums.length; i++) if (r < sums[i]) return this.names[i];
    return this.names[sums.length - 1];
  }
}

const tcpProxyFields = new Set([
  '@type', 'type_url', 'stat_prefix', 'cluster', 'weighted_clusters', 'idle_timeout', 'max_connect_attempts', 'hash_policy',
]);

/** Envoy's default tcp_proxy idle timeout. */
const defaultIdleTimeoutMs = 3600_000;

export function compileTcpProxy(at: FieldPath, config: Message): TcpProxySpec {
  checkFields(at, config, new Set([...tcpProxyFields, ...tcpObserverFields()]));
  const statPrefix = requiredString(at.field('stat_prefix'), config.stat_prefix);
  const cluster = string(at.field('cluster'), config.cluster) ?? '';
  const weighted = optionalMessage(at.field('weighted_clusters'), config.weighted_clusters);
  if (cluster !== '' && weighted) at.reject('sets both cluster and weighted_clusters');
  if (cluster === '' && !weighted) at.reject('needs cluster or weighted_clusters');
  const clusters = weighted ? compileWeightedClusters(at.field('weighted_clusters'), weighted) : [{ name: cluster, weight: 1 }];

  const attempts = uintWrapper(at.field('max_connect_attempts'), config.max_connect_attempts) ?? 1;
  if (attempts < 1) at.field('max_connect_attempts').reject('must be at least 1');

  return {
    statPrefix,
    clusters: new ClusterChoice(clusters),
    idleTimeoutMs: durationMs(at.field('idle_timeout'), config.idle_timeout) ?? defaultIdleTimeoutMs,
    maxConnectAttempts: attempts,
    hashSourceIp: compileHashPolicy(at.field('hash_policy'), config.hash_policy),
    observers: compileTcpObservers(at, config),
  };
}

function compileWeightedClusters(at: FieldPath, weighted: Message): { name: string; weight: number }[] {
  checkFields(at, weighted, new Set(['clusters']));
  const clusters = repeated(at.field('clusters'), weighted.clusters).map((value, i) => {
    const cp = at.field('clusters').item(i);
    const c = message(cp, value);
    checkFields(cp, c, new Set(['name', 'weight']));
    const name = requiredString(cp.field('name'), c.name);
    const weight = integer(cp.field('weight'), c.weight) ?? 0;
    if (weight < 1) cp.field('weight').reject(`${weight} must be at least 1`);
    return { name, weight };
  });
  if (clusters.length === 0) at.field('clusters').reject('is empty');
  const total = clusters.reduce((sum, c) => sum + c.weight, 0);
  if (total > 0xffffffff) at.field('clusters').reject(`weights add up to ${total}, more than a uint32`);
  return clusters;
}

/** type.v3.HashPolicy: at most one, source_ip only (filter_state is not supported). */
function compileHashPolicy(at: FieldPath, value: unknown): boolean {
  const policies = repeated(at, value);
  if (policies.length > 1) at.reject(`has ${policies.length} policies; at most one is allowed`);
  if (policies.length === 0) return false;
  const pp = at.item(0);
  const policy = message(pp, policies[0]);
  checkFields(pp, policy, new Set(['source_ip']));
  if (!optionalMessage(pp.field('source_ip'), policy.source_ip)) pp.reject('must set source_ip');
  return true;
}
