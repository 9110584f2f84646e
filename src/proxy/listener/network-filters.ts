// The network filters a filter chain may run before its terminal filter (tcp_proxy or
// http_connection_manager): today envoy.filters.network.rbac. Each one looks at a connection when
// the listener hands it over (after TLS termination) and either lets it through or closes it; only
// then does the terminal filter see it.
import type { Socket } from 'node:net';
import { NetworkRbacFilter, compileNetworkRbac, networkRbacTypeUrl, type NetworkRbacSpec } from '../rbac/network-filter.ts';
import type { ProxyStats } from '../telemetry/stats.ts';
import type { FieldPath, Message } from '../upstream/envoy-config.ts';
import type { NetworkFilterChain } from './network-filter-chain.ts';

export type NetworkReadFilterSpec = { kind: 'rbac'; spec: NetworkRbacSpec };

/** The type URLs of the filters that may come before the terminal one. */
export const readFilterTypeUrls: readonly string[] = [networkRbacTypeUrl];

/** A non-terminal network filter's typed_config, or null when `typeUrl` is not one. */
export function compileNetworkReadFilter(at: FieldPath, typeUrl: string, config: Message): NetworkReadFilterSpec | null {
  if (typeUrl === networkRbacTypeUrl) return { kind: 'rbac', spec: compileNetworkRbac(at, config) };
  return null;
}

/** A filter instance of a chain: decides once per connection. */
interface ReadFilter {
  allows(socket: Socket): boolean;
}

function createReadFilter(spec: NetworkReadFilterSpec, stats: ProxyStats): ReadFilter {
  const rbac = spec.spec;
  return new NetworkRbacFilter(rbac, stats.networkRbacStats(rbac.statPrefix, rbac.rules.shadowRulesStatPrefix));
}

/** The terminal filter behind its read filters; a connection a filter refuses is closed. */
export class ReadFilteredChain implements NetworkFilterChain {
  private readonly filters: readonly ReadFilter[];
  private readonly terminal: NetworkFilterChain;

  constructor(specs: readonly NetworkReadFilterSpec[], terminal: NetworkFilterChain, stats: ProxyStats) {
    this.filters = specs.map((s) => createReadFilter(s, stats));
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
  return specs.length === 0 ? terminal : new ReadFilteredChain(specs, terminal, stats);
}
