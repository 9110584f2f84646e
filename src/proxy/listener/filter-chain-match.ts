// FilterChainMatch: which of a listener's filter chains takes a connection. Envoy's order and rules:
// the criteria are tried one after the other (destination port, destination IP, server name,
// transport protocol, application protocols, direct source IP, source type, source IP, source port);
// at each step only the chains with the most specific match survive (an exact port beats "any port",
// the longest prefix wins, an exact server name beats `*.example.com`, which beats `*.com`, which
// beats no server_names), a chain whose criterion is set and does not match drops out, and there is
// no backtracking: when the survivors of a step all fail a later one, no chain matches (the listener
// then uses its default_filter_chain, or closes the connection).
import { CidrRange, compileCidrRange } from './cidr-range.ts';
import type { ConnectionInfo } from './connection-info.ts';
import {
  FieldPath, checkFields, integer, isPresent, message, optionalMessage, repeated, string, uintWrapper,
} from '../upstream/envoy-config.ts';

export type SourceType = 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL';

export type FilterChainMatchSpec = {
  /** 0: any. */
  destinationPort: number;
  prefixRanges: CidrRange[];
  /** Exact names, lowercased. */
  serverNames: string[];
  /** Wildcards as their suffix with the dot (`*.example.com` → `.example.com`), lowercased. */
  serverNameSuffixes: string[];
  /** '': any. */
  transportProtocol: string;
  applicationProtocols: string[];
  directSourcePrefixRanges: CidrRange[];
  sourceType: SourceType;
  sourcePrefixRanges: CidrRange[];
  sourcePorts: number[];
};

const matchFields = new Set([
  'destination_port', 'prefix_ranges', 'server_names', 'transport_protocol', 'application_protocols',
  'direct_source_prefix_ranges', 'source_type', 'source_prefix_ranges', 'source_ports',
]);
const sourceTypes: readonly SourceType[] = ['ANY', 'SAME_IP_OR_LOOPBACK', 'EXTERNAL'];

export const anyMatch: FilterChainMatchSpec = {
  destinationPort: 0, prefixRanges: [], serverNames: [], serverNameSuffixes: [], transportProtocol: '',
  applicationProtocols: [], directSourcePrefixRanges: [], sourceType: 'ANY', sourcePrefixRanges: [], sourcePorts: [],
};

export function compileFilterChainMatch(at: FieldPath, value: unknown): FilterChainMatchSpec {
  const m = optionalMessage(at, value);
  if (!m) return anyMatch;
  if (isPresent(m.address_suffix) && m.address_suffix !== '') at.field('address_suffix').reject('is not supported (Envoy does not implement it either)');
  if (isPresent(m.suffix_len)) at.field('suffix_len').reject('is not supported (Envoy does not implement it either)');
  checkFields(at, m, new Set([...matchFields, 'address_suffix']));

  const port = uintWrapper(at.field('destination_port'), m.destination_port) ?? 0;
  if (isPresent(m.destination_port) && (port < 1 || port > 65535)) at.field('destination_port').reject(`${port} is not a valid port`);

  const serverNames: string[] = [];
  const serverNameSuffixes: string[] = [];
  repeated(at.field('server_names'), m.server_names).forEach((v, i) => {
    const np = at.field('server_names').item(i);
    const name = (string(np, v) ?? '').toLowerCase();
    if (name === '') np.reject('must not be empty');
    if (name.startsWith('*.') && name.length > 2 && !name.slice(1).includes('*')) serverNameSuffixes.push(name.slice(1));
    else if (name.includes('*')) np.reject(`${name}: partial wildcards are not supported (only a leading "*.")`);
    else serverNames.push(name);
  });

  const sourceType = m.source_type === undefined || m.source_type === null ? 'ANY'
    : typeof m.source_type === 'number' ? sourceTypes[m.source_type] : m.source_type;
  if (!sourceTypes.includes(sourceType as SourceType)) at.field('source_type').reject(`${String(m.source_type)} is not a source type`);

  return {
    destinationPort: port,
    prefixRanges: ranges(at.field('prefix_ranges'), m.prefix_ranges),
    serverNames,
    serverNameSuffixes,
    transportProtocol: string(at.field('transport_protocol'), m.transport_protocol) ?? '',
    applicationProtocols: repeated(at.field('application_protocols'), m.application_protocols).map((v, i) => {
      const p = string(at.field('application_protocols').item(i), v) ?? '';
      if (p === '') at.field('application_protocols').item(i).reject('must not be empty');
      return p;
    }),
    directSourcePrefixRanges: ranges(at.field('direct_source_prefix_ranges'), m.direct_source_prefix_ranges),
    sourceType: sourceType as SourceType,
    sourcePrefixRanges: ranges(at.field('source_prefix_ranges'), m.source_prefix_ranges),
    sourcePorts: repeated(at.field('source_ports'), m.source_ports).map((v, i) => {
      const p = integer(at.field('source_ports').item(i), v) ?? 0;
      if (p < 1 || p > 65535) at.field('source_ports').item(i).reject(`${p} is not a valid port`);
      return p;
    }),
  };
}

function ranges(at: FieldPath, value: unknown): CidrRange[] {
  return repeated(at, value).map((v, i) => compileCidrRange(at.item(i), message(at.item(i), v)));
}

/** The values of one criterion as Envoy keys its match tree (an unset criterion is its own key, ''). */
function keys(m: FilterChainMatchSpec): string[][] {
  const orAny = (values: string[]) => (values.length === 0 ? [''] : values);
  return [
    [String(m.destinationPort)],
    orAny(m.prefixRanges.map((r) => r.key)),
    orAny([...m.serverNames, ...m.serverNameSuffixes.map((s) => `*${s}`)]),
    [m.transportProtocol],
    orAny(m.applicationProtocols),
    orAny(m.directSourcePrefixRanges.map((r) => r.key)),
    [m.sourceType],
    orAny(m.sourcePrefixRanges.map((r) => r.key)),
    orAny(m.sourcePorts.map(String)),
  ];
}

/**
 * Rejects two chains that a connection could match equally (Envoy: "multiple filter chains with the
 * same matching rules are defined" / "... with overlapping matching rules"): for every criterion
 * they share a value, or both leave it unset.
 */
export function checkDistinctMatches(chains: { at: FieldPath; label: string; match: FilterChainMatchSpec }[]): void {
  const all = chains.map((c) => keys(c.match).map((values) => new Set(values)));
  for (let j = 1; j < chains.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = all[i];
      const b = all[j];
      let overlap = true;
      let same = true;
      for (let k = 0; k < a.length && overlap; k++) {
        let shared = false;
        for (const v of b[k]) if (a[k].has(v)) { shared = true; break; }
        overlap = shared;
        if (a[k].size !== b[k].size || [...b[k]].some((v) => !a[k].has(v))) same = false;
      }
      if (!overlap) continue;
      const at = chains[j].at.field('filter_chain_match');
      if (same) at.reject(`has the same matching rules as ${chains[i].label} (multiple filter chains with the same matching rules are defined)`);
      at.reject(`overlaps ${chains[i].label}: a connection could match both (multiple filter chains with overlapping matching rules are defined)`);
    }
  }
}

/** -1: the criterion is set and does not match; otherwise higher is more specific (0: unset). */
type Score<T> = (match: FilterChainMatchSpec, conn: ConnectionInfo, context: T) => number;

function rangeScore(ranges: CidrRange[], address: Uint8Array | null): number {
  if (ranges.length === 0) return 0;
  let best = -1;
  if (address === null) return best;
  for (const r of ranges) if (r.prefixLen + 1 > best && r.contains(address)) best = r.prefixLen + 1;
  return best;
}

const exactServerName = 1 << 20;

const steps: { uses: (m: FilterChainMatchSpec) => boolean; score: Score<void> }[] = [
  {
    uses: (m) => m.destinationPort !== 0,
    score: (m, c) => (m.destinationPort === 0 ? 0 : m.destinationPort === c.localPort ? 1 : -1),
  },
  { uses: (m) => m.prefixRanges.length > 0, score: (m, c) => rangeScore(m.prefixRanges, m.prefixRanges.length > 0 ? c.localAddressBytes() : null) },
  {
    uses: (m) => m.serverNames.length > 0 || m.serverNameSuffixes.length > 0,
    score: (m, c) => {
      if (m.serverNames.length === 0 && m.serverNameSuffixes.length === 0) return 0;
      const name = c.serverName;
      if (name === '') return -1;
      if (m.serverNames.includes(name)) return exactServerName;
      let best = -1;
      for (const suffix of m.serverNameSuffixes) {
        if (suffix.length > best && name.length > suffix.length && name.endsWith(suffix)) best = suffix.length;
      }
      return best;
    },
  },
  {
    uses: (m) => m.transportProtocol !== '',
    score: (m, c) => (m.transportProtocol === '' ? 0 : m.transportProtocol === c.detectedTransportProtocol ? 1 : -1),
  },
  {
    // The first protocol in the client's list that some chain names wins.
    uses: (m) => m.applicationProtocols.length > 0,
    score: (m, c) => {
      if (m.applicationProtocols.length === 0) return 0;
      const requested = c.applicationProtocols;
      for (let i = 0; i < requested.length; i++) if (m.applicationProtocols.includes(requested[i])) return requested.length - i;
      return -1;
    },
  },
  {
    // No PROXY protocol here: the direct source is the source.
    uses: (m) => m.directSourcePrefixRanges.length > 0,
    score: (m, c) => rangeScore(m.directSourcePrefixRanges, m.directSourcePrefixRanges.length > 0 ? c.remoteAddressBytes() : null),
  },
  {
    uses: (m) => m.sourceType !== 'ANY',
    score: (m, c) => (m.sourceType === 'ANY' ? 0 : (m.sourceType === 'SAME_IP_OR_LOOPBACK') === c.isSameIpOrLoopback() ? 1 : -1),
  },
  {
    uses: (m) => m.sourcePrefixRanges.length > 0,
    score: (m, c) => rangeScore(m.sourcePrefixRanges, m.sourcePrefixRanges.length > 0 ? c.remoteAddressBytes() : null),
  },
  {
    uses: (m) => m.sourcePorts.length > 0,
    score: (m, c) => (m.sourcePorts.length === 0 ? 0 : m.sourcePorts.includes(c.remotePort) ? 1 : -1),
  },
];

/** Picks a listener's filter chain for a connection; built once per listener config. */
export class FilterChainSelector<T> {
  private readonly matches: FilterChainMatchSpec[];
  private readonly chains: T[];
  /** Only the steps some chain uses (the others would keep every candidate). */
  private readonly activeSteps: Score<void>[];
  private readonly scratch: number[];

  constructor(entries: { match: FilterChainMatchSpec; chain: T }[]) {
    this.matches = entries.map((e) => e.match);
    this.chains = entries.map((e) => e.chain);
    this.activeSteps = steps.filter((s) => this.matches.some(s.uses)).map((s) => s.score);
    this.scratch = new Array<number>(entries.length).fill(0);
  }

  /** The chain every connection gets (one chain matching anything), or null when the choice depends on the connection. */
  get only(): T | null {
    return this.chains.length === 1 && this.activeSteps.length === 0 ? this.chains[0] : null;
  }

  /** The chain for this connection, or null when none matches. */
  select(conn: ConnectionInfo): T | null {
    const n = this.matches.length;
    if (n === 0) return null;
    const candidates = this.scratch;
    let count = n;
    for (let i = 0; i < n; i++) candidates[i] = i;
    for (const score of this.activeSteps) {
      let best = -1;
      let kept = 0;
      for (let i = 0; i < count; i++) {
        const index = candidates[i];
        const s = score(this.matches[index], conn);
        if (s < 0 || s < best) continue;
        if (s > best) { best = s; kept = 0; }
        candidates[kept++] = index;
      }
      count = kept;
      if (count === 0) return null;
    }
    return this.chains[candidates[0]];
  }
}
