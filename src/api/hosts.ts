// Host names in Istio rules, and durations.
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
