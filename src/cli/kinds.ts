// Kind names as users type them: full, lower case, plural, and the short names istioctl knows.
const aliases: Record<string, string> = {};
for (const [kind, extra] of Object.entries({
  VirtualService: ['vs'],
  DestinationRule: ['dr'],
  ServiceEntry: ['se'],
  WorkloadEntry: ['we'],
  Gateway: ['gw'],
  PeerAuthentication: ['pa'],
  AuthorizationPolicy: ['ap'],
  RequestAuthentication: ['ra'],
  Telemetry: ['telemetry'],
})) {
  const lower = kind.toLowerCase();
  const plural = lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  for (const a of [kind, lower, plural, ...extra]) aliases[a] = kind;
}

export function resolveKind(input: string): string {
  const kind = aliases[input] ?? aliases[input.toLowerCase()];
  if (!kind) throw new Error(`unknown kind ${JSON.stringify(input)}: expected one of ${[...new Set(Object.values(aliases))].join(', ')}`);
  return kind;
}
