// The network filters a filter chain may run before its terminal filter (tcp_proxy or
// http_connection_manager): today envoy.filters.network.rbac. Each one looks at a connection when
// the listener hands it over (after TLS termination) and either lets it through or closes it; only
// then does the terminal filter see it.
import type { Socket } from 'node:net';
import { NetworkRbacFilter, compileNetworkRbac, networkRbacTypeUrl, type NetworkRbacSpec } from '../rbac/network-filter.ts';
import type { ProxyStats } from '../telemetry/stats.ts';
import type { FieldPath, Message } from '../upstream/envoy-config.ts';
import type { NetworkFilterChain } from './network-filter-chain.ts';
import { compilePluginConfig, pluginConfigTypeUrl, type StatsOverrides } from '../telemetry/stats-plugin-config.ts';

/**
 * `stats`: Istio's `istio.stats` PluginConfig (a TypedStruct) on a TCP chain: not a filter of its own
 * here, but the metrics overrides the chain's tcp_proxy reports with (listener-manager.ts passes them on).
 */
export type NetworkReadFilterSpec = { kind: 'rbac'; spec: NetworkRbacSpec } | { kind: 'stats'; overrides: StatsOverrides };

/** The type URLs of the filters that may come before the terminal one. */
export const readFilterTypeUrls: readonly string[] = [networkRbacTypeUrl, pluginConfigTypeUrl];

/** A non-terminal network filter's typed_config, or null when `typeUrl` is not one. */
export function compileNetworkReadFilter(at: FieldPath, typeUrl: string, config: Message): NetworkReadFilterSpec | null {
  if (typeUrl === networkRbacTypeUrl) return { kind: 'rbac', spec: compileNetworkRbac(at, config) };
  if (typeUrl === pluginConfigTypeUrl) return { kind: 'stats', overrides: compilePluginConfig(at.field('value'), config.value) };
  return null;
}

/** The metrics overrides a chain's `istio.stats` network filter carries, or null. */
export function chainStatsOverrides(specs: readonly NetworkReadFilterSpec[]): StatsOverrides | null {
  for (const s of specs) if (s.kind === 'stats') return s.overrides;
  return null;
}

/** A filter instance of a chain: decides once per connection. */
interface ReadFilter {
  allows(socket: Socket): boolean;
}

function createReadFilter(spec: NetworkReadFilterSpec & { kind: 'rbac' }, stats: ProxyStats): ReadFilter {
  const rbac = spec.spec;
  return new NetworkRbacFilter(rbac, stats.networkRbacStats(rbac.statPrefix, rbac.rules.shadowRulesStatPrefix));
}

function isRbac(spec: NetworkReadFilterSpec): spec is NetworkReadFilterSpec & { kind: 'rbac' } {
  return spec.kind === 'rbac';
}

/** The terminal filter behind its read filters; a connection a filter refuses is closed. */
export class ReadFilteredChain implements NetworkFilterChain {
  private readonly filters: readonly ReadFilter[];
  private readonly terminal: NetworkFilterChain;

  constructor(specs: readonly NetworkReadFilterSpec[], terminal: NetworkFilterChain, stats: ProxyStats) {
    this.filters = specs.filter(isRbac).map((s) => createReadFilter(s, stats));
    this.terminal = terminal;
  }

  get connectionCount(): number {
    return this.terminal.connectionCount;
  }

  handleConnection(socket: Socket): void {
    for (const f of this.filters) {
      if (!f.allows(socket)) {
        socket.on('error', () => {});
        socket.destroy();
        return;
      }
    }
    this.terminal.handleConnection(socket);
  }

  drain(): Promise<void> {
    return this.terminal.drain();
  }

  destroy(): void {
    this.terminal.destroy();
  }
}

/** The chain's terminal filter, behind its read filters when it has some. */
export function withReadFilters(specs: readonly NetworkReadFilterSpec[], terminal: NetworkFilterChain, stats: ProxyStats): NetworkFilterChain {
  return specs.some(isRbac) ? new ReadFilteredChain(specs, terminal, stats) : terminal;
}
