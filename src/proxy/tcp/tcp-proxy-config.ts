// envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy → its spec.
import { FieldPath, checkFields, durationMs, requiredString, uintWrapper, type Message } from '../upstream/envoy-config.ts';

export type TcpProxySpec = {
  statPrefix: string;
  cluster: string;
  /** 0: none. */
  idleTimeoutMs: number;
};

const tcpProxyFields = new Set(['@type', 'stat_prefix', 'cluster', 'idle_timeout', 'max_connect_attempts']);

/** Envoy's default tcp_proxy idle timeout. */
const defaultIdleTimeoutMs = 3600_000;

export function compileTcpProxy(at: FieldPath, config: Message): TcpProxySpec {
  checkFields(at, config, tcpProxyFields);
  const attempts = uintWrapper(at.field('max_connect_attempts'), config.max_connect_attempts) ?? 1;
  if (attempts !== 1) at.field('max_connect_attempts').reject(`${attempts} is not supported (no retries yet)`);
  return {
    statPrefix: requiredString(at.field('stat_prefix'), config.stat_prefix),
    cluster: requiredString(at.field('cluster'), config.cluster),
    idleTimeoutMs: durationMs(at.field('idle_timeout'), config.idle_timeout) ?? defaultIdleTimeoutMs,
  };
}
