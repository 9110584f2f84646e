// Host names in Istio rules (short names, wildcard matching), and durations.
//
// Short names. Istio's documentation (VirtualService `hosts`, Destination `host`): "Istio will
// interpret the short name based on the namespace of the rule, not the service. A rule in the
// `default` namespace containing a host `reviews` will be interpreted as
// `reviews.default.svc.cluster.local`." Istio's implementation (ResolveShortnameToFQDN) expands only
// names WITHOUT a dot; a name with a dot is taken as written. So `reviews.other` stays
// `reviews.other` (it is not read as `<name>.<namespace>`): Istio does not apply Kubernetes DNS
// search paths, and neither do we. `*` and IP addresses are kept as written too.

import { isIP } from './names.ts';

export { parseDuration } from './duration.ts';

/** The fully qualified name Istio gives `host` in a rule of namespace `namespace`. */
export function fqdn(host: string, namespace: string, domainSuffix = 'cluster.local'): string {
  if (host === '' || host === '*' || host.includes('.') || isIP(host)) return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}

/**
 * Istio's host.Name.Matches: the two host patterns have at least one name in common. A pattern is
 * a name or a `*`-prefixed wildcard (`*.example.com`; `*` alone matches everything). Names are
 * compared as written: expand short names with fqdn() first where that matters.
 */
export function hostsOverlap(a: string, b: string): boolean {
  const aWild = a.startsWith('*');
  const bWild = b.startsWith('*');
  if (aWild && bWild) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aWild) return b.endsWith(a.slice(1));
  if (bWild) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name.SubsetOf: every name matched by `a` is matched by `b`. */
export function hostSubsetOf(a: string, b: string): boolean {
  if (a.startsWith('*')) return b.startsWith('*') && a.slice(1).endsWith(b.slice(1));
  if (b.startsWith('*')) return a.endsWith(b.slice(1));
  return a === b;
}
