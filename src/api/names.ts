// Syntax of the names that appear in Istio resources: Kubernetes object names, DNS labels, host
// names (with Istio's wildcard rules), IP addresses and CIDR blocks, label keys/values, HTTP header
// names. Each `...Problem` function returns undefined when the value is fine, else a message.

const K8S_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Istio's own DNS-1123 label check (subset names, port names) also accepts upper case.
const ISTIO_LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

/** Kubernetes DNS-1123 label: namespaces; lower case, at most 63 characters. */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && K8S_LABEL.test(s);
}

/** Kubernetes DNS-1123 subdomain: names of custom resources. */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every((l) => K8S_LABEL.test(l));
}

/** Istio's DNS label rule (as Istio's labels.IsDNS1123Label): subset names, port names. */
export function isIstioDnsLabel(s: string): boolean {
  return s.length <= 63 && ISTIO_LABEL.test(s);
}

export function objectNameProblem(s: string): string | undefined {
  return isDns1123Subdomain(s) ? undefined
    : 'must be a DNS-1123 subdomain (lower case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters)';
}

export function namespaceProblem(s: string): string | undefined {
  return isDns1123Label(s) ? undefined
    : 'must be a DNS-1123 label (lower case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)';
}

/** Checks the dot-separated labels of `part`, the whole or the tail of host name `domain`. */
function dnsLabelsProblem(part: string, domain = part): string | undefined {
  const labels = part.split('.');
  const tld = labels[labels.length - 1];
  if (/^\d+$/.test(tld)) return `"${domain}" is not a valid host name (top level domain "${tld}" cannot be all-numeric)`;
  for (let i = 0; i < labels.length; i++) {
    if (i === labels.length - 1 && labels[i] === '' && i > 0) return undefined; // `istio.io.`
    if (!isIstioDnsLabel(labels[i])) return `"${domain}" is not a valid host name (label "${labels[i]}" is invalid)`;
  }
  return undefined;
}

function lengthProblem(domain: string): string | undefined {
  if (domain === '') return 'must not be empty';
  if (domain.length > 255) return `"${domain}" is too long (at most 255 characters)`;
  return undefined;
}

/** A fully qualified (or short) domain name without wildcards, as Istio's ValidateFQDN. */
export function fqdnProblem(domain: string): string | undefined {
  return lengthProblem(domain) ?? dnsLabelsProblem(domain);
}

/** A host that may have a wildcard in its left-most label (`*`, `*.example.com`), as Istio's ValidateWildcardDomain. */
export function wildcardHostProblem(domain: string): string | undefined {
  const length = lengthProblem(domain);
  if (length !== undefined) return length;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) return `"${domain}" is not a valid host name (label "${first}" is invalid)`;
  return dot < 0 ? undefined : dnsLabelsProblem(domain.slice(dot + 1), domain);
}

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  let text = s;
  let groupsNeeded = 8;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    if (!isIPv4(text.slice(lastColon + 1))) return false;
    text = text.slice(0, lastColon + 1) + '0';
    groupsNeeded = 7;
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const group = /^[0-9a-fA-F]{1,4}$/;
  const split = (h: string) => (h === '' ? [] : h.split(':'));
  const groups = halves.flatMap(split);
  if (!groups.every((g) => group.test(g))) return false;
  return halves.length === 2 ? groups.length < groupsNeeded : groups.length === groupsNeeded;
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`). */
export function ipOrCidrProblem(s: string): string | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return isIP(s) ? undefined : `"${s}" is not a valid IP address or CIDR block`;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const max = isIPv4(ip) ? 32 : isIPv6(ip) ? 128 : -1;
  if (max < 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max) return `"${s}" is not a valid IP address or CIDR block`;
  return undefined;
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

/** Kubernetes label key: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && prefix.split('.').every((l) => ISTIO_LABEL.test(l)));
  if (!prefixOk || name.length > 63 || !LABEL_NAME.test(name)) return `invalid label key "${key}"`;
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '' || (value.length <= 63 && LABEL_NAME.test(value))) return undefined;
  return `invalid label value "${value}" (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`;
}

// RFC 7230 token characters.
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);

const JWT_CLAIM_PREFIX = '@request.auth.claims';

/**
 * A JWT claim used as a header name for routing: `@request.auth.claims.<name>[.<nested>]` or
 * `@request.auth.claims[<name>][<nested>]` (the prefix in any case), as Istio reads it.
 */
export function isJwtClaimHeader(name: string): boolean {
  if (!name.toLowerCase().startsWith(JWT_CLAIM_PREFIX)) return false;
  const rest = name.slice(JWT_CLAIM_PREFIX.length);
  return (rest.startsWith('.') && rest.length > 1) || (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2);
}

/** A header name in a match: a token, an HTTP/2 pseudo-header, or a JWT claim `@request.auth.claims.<name>`. */
export function matchHeaderNameProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (PSEUDO_HEADERS.has(name) || isJwtClaimHeader(name)) return undefined;
  return HEADER_TOKEN.test(name) ? undefined : `"${name}" is not a valid header name`;
}

/** A header name to set, add or remove: a token; pseudo-headers and Host are not allowed, except the authority on requests. */
export function headerOperationNameProblem(name: string, allowAuthority: boolean): string | undefined {
  if (name === '') return 'header name must not be empty';
  const lower = name.toLowerCase();
  if (allowAuthority && (lower === ':authority' || lower === 'host')) return undefined;
  if (lower === 'host') return 'the Host header cannot be changed here (use rewrite.authority)';
  if (name.startsWith(':')) return `"${name}": pseudo-headers (":" prefix) cannot be changed`;
  return HEADER_TOKEN.test(name) ? undefined : `"${name}" is not a valid header name`;
}
