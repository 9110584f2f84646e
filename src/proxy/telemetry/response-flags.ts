// Envoy's response flags (%RESPONSE_FLAGS% in access logs) as bits of one number kept per request;
// the text form is built only when something (an access log) asks for it.

export const ResponseFlag = {
  /** UH: no healthy upstream endpoint. */
  NoHealthyUpstream: 1 << 0,
  /** UF: upstream connection failure. */
  UpstreamConnectionFailure: 1 << 1,
  /** UO: upstream overflow (circuit breaking). */
  UpstreamOverflow: 1 << 2,
  /** NR: no route configured for the request. */
  NoRouteFound: 1 << 3,
  /** UT: upstream request timeout. */
  UpstreamRequestTimeout: 1 << 4,
  /** UC: upstream connection termination before a response. */
  UpstreamConnectionTermination: 1 << 5,
  /** UR: upstream remote reset (after the response started). */
  UpstreamRemoteReset: 1 << 6,
  /** DC: downstream connection termination. */
  DownstreamConnectionTermination: 1 << 7,
  /** NC: the route's cluster was not found. */
  NoClusterFound: 1 << 8,
  /** LR: connection local reset. */
  LocalReset: 1 << 9,
  /** URX: the request was rejected because its retry limit (num_retries) was reached. */
  UpstreamRetryLimitExceeded: 1 << 10,
  /** DI: the request was delayed by the fault filter. */
  DelayInjected: 1 << 11,
  /** FI: the request was aborted by the fault filter. */
  FaultInjected: 1 << 12,
  /** UAEX: the request was denied by the external authorization service. */
  UnauthorizedExternalService: 1 << 13,
  /** UPE: the upstream response was not valid HTTP (a protocol error). */
  UpstreamProtocolError: 1 << 14,
} as const;

const shortNames: [number, string][] = [
  [ResponseFlag.NoHealthyUpstream, 'UH'],
  [ResponseFlag.UpstreamConnectionFailure, 'UF'],
  [ResponseFlag.UpstreamOverflow, 'UO'],
  [ResponseFlag.NoRouteFound, 'NR'],
  [ResponseFlag.UpstreamRequestTimeout, 'UT'],
  [ResponseFlag.UpstreamConnectionTermination, 'UC'],
  [ResponseFlag.UpstreamRemoteReset, 'UR'],
  [ResponseFlag.DownstreamConnectionTermination, 'DC'],
  [ResponseFlag.NoClusterFound, 'NC'],
  [ResponseFlag.LocalReset, 'LR'],
  [ResponseFlag.UpstreamRetryLimitExceeded, 'URX'],
  [ResponseFlag.DelayInjected, 'DI'],
  [ResponseFlag.FaultInjected, 'FI'],
  [ResponseFlag.UnauthorizedExternalService, 'UAEX'],
  [ResponseFlag.UpstreamProtocolError, 'UPE'],
];

/** `UF,UT` as Envoy prints them, or `-` when no flag is set. */
export function formatResponseFlags(flags: number): string {
  if (flags === 0) return '-';
  const names: string[] = [];
  for (const [bit, name] of shortNames) if ((flags & bit) !== 0) names.push(name);
  return names.join(',');
}

/** The bit of a flag by its short name (`UO`), or 0 for a name this proxy never sets. */
export function responseFlagBit(name: string): number {
  for (const [bit, short] of shortNames) if (short === name) return bit;
  return 0;
}
