// The `when` keys of an authorization rule (Istio's "Authorization policy conditions") and the
// attribute each one reads.
import type { Attribute } from './attribute.ts';
import { connectionSni, destinationIp, destinationPort, envoyFilterMetadata } from './rbac-permissions.ts';
import {
  remoteIp, requestAudiences, requestClaim, requestHeader, requestPresenter, requestPrincipal,
  sourceIp, sourceNamespace, sourcePrincipal, sourceServiceAccount, sourceTrustDomain,
} from './rbac-principals.ts';

/** `[a]` → ['a']; `[a][b]` → ['a', 'b']; undefined when the brackets are malformed. */
export function bracketedNames(s: string): string[] | undefined {
  const names: string[] = [];
  const re = /\[([^[\]]+)\]/y;
  let at = 0;
  while (at < s.length) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) break;
    names.push(m[1]);
    at = re.lastIndex;
  }
  if (at === s.length && names.length > 0) return names;
  // Istio reads a single bracket pair as one name even when it holds brackets of its own.
  return s.startsWith('[') && s.endsWith(']') && s.length > 2 ? [s.slice(1, -1)] : undefined;
}

/** The attribute a `when` key names, or a message saying why the key is not understood. */
export function conditionAttribute(key: string, policyNamespace: string): Attribute | string {
  switch (key) {
    case 'source.ip': return sourceIp;
    case 'remote.ip': return remoteIp;
    case 'source.namespace': return sourceNamespace;
    case 'source.principal': return sourcePrincipal;
    case 'source.serviceAccount': return sourceServiceAccount(policyNamespace);
    case 'source.trustDomain': return sourceTrustDomain;
    case 'request.auth.principal': return requestPrincipal;
    case 'request.auth.audiences': return requestAudiences;
    case 'request.auth.presenter': return requestPresenter;
    case 'destination.ip': return destinationIp;
    case 'destination.port': return destinationPort;
    case 'connection.sni': return connectionSni;
    default: break;
  }
  if (key.startsWith('request.headers')) {
    const names = bracketedNames(key.slice('request.headers'.length));
    return names?.length === 1 ? requestHeader(names[0]) : `invalid key "${key}": expected request.headers[<name>]`;
  }
  if (key.startsWith('request.auth.claims')) {
    const names = bracketedNames(key.slice('request.auth.claims'.length));
    return names ? requestClaim(names) : `invalid key "${key}": expected request.auth.claims[<claim>]`;
  }
  if (key.startsWith('experimental.envoy.filters.')) return envoyFilterMetadata(key);
  return `unknown attribute "${key}"`;
}
