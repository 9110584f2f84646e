// envoy.filters.network.rbac: role-based access control of connections, before the chain's terminal
// filter (tcp_proxy or http_connection_manager) and after TLS termination (so `authenticated` sees the
// client certificate). A denied connection is closed before the terminal filter sees it; allowed and
// denied connections are counted under the filter's stat_prefix, shadow rules only counted.
//
// enforcement_type: Envoy checks ONE_TIME_ON_FIRST_BYTE once, when the first bytes arrive, and
// CONTINUOUS again on every read, because filters before it may add connection metadata between reads.
// Here the check runs once, when the connection is handed to the chain: nothing at L4 produces
// metadata (HTTP-only rules never match a connection), and addresses, SNI and the peer certificate are
// fixed by then, so a later check could not decide differently. (It also means a server-first protocol
// is checked before the server speaks, where Envoy would wait for the client's first byte.)
import type { Socket } from 'node:net';
import type { NetworkRbacStats } from '../telemetry/stat-objects.ts';
import { FieldPath, checkFields, requiredString, type Message } from '../upstream/envoy-config.ts';
import { ConnectionFacts } from './connection-facts.ts';
import { compileFilterRules, type RbacFilterRules } from './filter-rules.ts';

export const networkRbacTypeUrl = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

export type NetworkRbacSpec = {
  statPrefix: string;
  rules: RbacFilterRules;
};

const fields = new Set([
  '@type', 'type_url', 'rules', 'matcher', 'shadow_rules', 'shadow_matcher', 'shadow_rules_stat_prefix', 'stat_prefix', 'enforcement_type',
]);
const enforcementTypes = new Set(['ONE_TIME_ON_FIRST_BYTE', 'CONTINUOUS', 0, 1]);

export function compileNetworkRbac(at: FieldPath, config: Message): NetworkRbacSpec {
  checkFields(at, config, fields);
  const statPrefix = requiredString(at.field('stat_prefix'), config.stat_prefix);
  const enforcement = config.enforcement_type ?? 'ONE_TIME_ON_FIRST_BYTE';
  if (!enforcementTypes.has(enforcement as string)) at.field('enforcement_type').reject(`${String(enforcement)} is not one of ONE_TIME_ON_FIRST_BYTE, CONTINUOUS`);
  return { statPrefix, rules: compileFilterRules(at, config) };
}

export class NetworkRbacFilter {
  readonly rules: RbacFilterRules;
  readonly stats: NetworkRbacStats;

  constructor(spec: NetworkRbacSpec, stats: NetworkRbacStats) {
    this.rules = spec.rules;
    this.stats = stats;
  }

  /** Whether the connection may go on (shadow rules are only counted). */
  allows(socket: Socket): boolean {
    const { engine, shadow } = this.rules;
    if (engine === null && shadow === null) return true;
    const facts = new ConnectionFacts(socket);
    const counters = this.stats.filter;
    if (shadow !== null) {
      if (shadow.allows(shadow.matchedPolicy(facts, null))) counters.shadowAllowed++;
      else counters.shadowDenied++;
    }
    if (engine === null) return true;
    if (engine.allows(engine.matchedPolicy(facts, null))) {
      counters.allowed++;
      return true;
    }
    counters.denied++;
    return false;
  }
}
