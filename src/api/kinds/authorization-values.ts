// The values an AuthorizationPolicy rule matches (principals, hosts, paths, ports, IP blocks, ...)
// and the keys of its `when` conditions, with Istio's rules for each. Each `...Problem` function
// returns undefined when the value is fine, else a message.

import type { Problem } from '../schema.ts';
import { ipOrCidrProblem } from '../names.ts';

export function nonEmptyProblem(v: string): Problem {
  return v === '' ? 'must not be empty' : undefined;
}

/**
 * Matched values take one `*` at most, alone (presence), at the start (suffix match) or at the end
 * (prefix match). Istio reads any other `*` as a literal character, which is never what was meant:
 * `/api/*\/v1` would only match that exact text.
 */
export function wildcardValueProblem(v: string): Problem {
  if (v === '') return 'must not be empty';
  const stars = v.split('*').length - 1;
  if (stars === 0 || v === '*') return undefined;
  if (stars > 1) return `"${v}": at most one wildcard "*" is allowed (as a prefix, a suffix, or alone)`;
  if (v.startsWith('*') || v.endsWith('*')) return undefined;
  return `"${v}": a wildcard "*" is only allowed at the start or end of a value, or alone`;
}

export function trustDomainValueProblem(v: string): Problem {
  return wildcardValueProblem(v) ?? (v.includes('/') ? `"${v}": a trust domain cannot contain "/"` : undefined);
}

export function ipBlockProblem(v: string): Problem {
  return v === '' ? 'must not be empty' : ipOrCidrProblem(v);
}

/** A port as a string of digits, 1..65535 (0 would match no connection). */
export function portStringProblem(v: string): Problem {
  if (v === '') return 'must not be empty';
  if (!/^\d+$/.test(v)) return `"${v}" is not a port number`;
  const n = Number(v);
  return n >= 1 && n <= 65535 ? undefined : { code: 'WEFT_E_OUT_OF_RANGE', message: `port ${v} must be in range 1..65535` };
}

/** `serviceAccount` or `namespace/serviceAccount`, no wildcards, at most 320 characters. */
export function serviceAccountProblem(v: string): Problem {
  if (v === '') return 'must not be empty';
  if (v.includes('*')) return `"${v}": wildcards are not allowed in service accounts`;
  if (v.length > 320) return 'must be at most 320 characters';
  const parts = v.split('/');
  if (parts.length > 2) return `"${v}" must be "serviceAccount" or "namespace/serviceAccount"`;
  if (parts.some((p) => p === '')) return `"${v}" must be "serviceAccount" or "namespace/serviceAccount" (empty ${parts[0] === '' ? 'namespace' : 'service account'})`;
  return undefined;
}

const MATCH_ONE = '{*}';
const MATCH_ANY = '{**}';
// RFC 3986 pchar: the characters a path segment of a template may hold.
const PCHAR = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/**
 * A path to match. Plain paths follow the wildcard rule; paths with templates (`{*}` one segment,
 * `{**}` any number of segments, last) are checked as Envoy's URI template matcher reads them.
 */
export function pathValueProblem(v: string): Problem {
  if (v === '') return 'must not be empty';
  const template = v.includes(MATCH_ONE) || v.includes(MATCH_ANY);
  let matchAnySeen = false;
  for (const segment of v.replace(/^\/+|\/+$/g, '').split('/')) {
    if (segment === MATCH_ONE || segment === MATCH_ANY) {
      if (matchAnySeen) return `"${v}": {**} must be the last template operator in a path`;
      matchAnySeen = segment === MATCH_ANY;
      continue;
    }
    if (/[{}]/.test(segment)) return `"${v}": "{" and "}" are only allowed in the whole-segment templates {*} and {**}`;
    if (template && !PCHAR.test(segment)) return `"${v}": segment "${segment}" is not a valid path segment for a path template`;
  }
  return template ? undefined : wildcardValueProblem(v);
}

// ---- when: condition keys ----

const PLAIN_KEYS = new Set([
  'source.ip', 'remote.ip', 'source.namespace', 'source.serviceAccount', 'source.principal', 'source.trustDomain',
  'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter',
  'destination.ip', 'destination.port', 'connection.sni',
]);
const MAP_KEY_PREFIXES = ['request.headers', 'request.auth.claims', 'experimental.envoy.filters.'];

/** `name[x]`, `name[x][y]`: a map key needs at least one non-empty `[...]` at the end. */
function mapKeyProblem(key: string): Problem {
  const open = key.indexOf('[');
  if (open > 0 && key.endsWith(']') && open < key.length - 2) return undefined;
  return `"${key}" must name an entry in brackets, e.g. ${key.replace(/\[.*$/, '')}[name]`;
}

export function conditionKeyProblem(key: string): Problem {
  if (key === '') return 'must not be empty';
  if (PLAIN_KEYS.has(key)) return undefined;
  if (MAP_KEY_PREFIXES.some((p) => key.startsWith(p))) return mapKeyProblem(key);
  if (key === 'destination.namespace') return `"${key}" is not supported: the policy's own namespace (metadata.namespace) decides this`;
  if (key.startsWith('destination.labels')) return `"${key}" is not supported: use the policy's selector to choose workloads`;
  if (key === 'destination.name' || key === 'destination.user') return `"${key}" is not supported (it was removed from Istio's API)`;
  return `unknown condition key "${key}"; expected one of ${[...PLAIN_KEYS].join(', ')}, request.headers[<name>], request.auth.claims[<name>], experimental.envoy.filters.*[<name>]`;
}

/** The check for each value of a condition with `key` (assumed valid); values are non-empty by then. */
export function conditionValueCheck(key: string): (v: string) => Problem {
  switch (key) {
    case 'source.ip': case 'remote.ip': case 'destination.ip': return ipBlockProblem;
    case 'destination.port': return portStringProblem;
    case 'source.serviceAccount': return serviceAccountProblem;
    case 'source.trustDomain': return trustDomainValueProblem;
    default: return nonEmptyProblem;
  }
}
