// Operation attributes (what the request asks for) as Envoy RBAC permissions, as Istio encodes them.
import { cidrRange, isError, type Attribute, type Generated } from './attribute.ts';
import type { ValueMatcher } from './envoy-shapes.ts';
import { headerMatcher, policyStringMatcher, quoteRegex, regex } from './string-matchers.ts';

/** `hosts`: the `:authority` header, case-insensitively. A Host with a port is a different value (`example.com:8080`). */
export const hosts: Attribute = {
  side: 'permission',
  httpOnly: true,
  each: (v) => ({ header: headerMatcher(':authority', v, true) }),
};

/** `methods`: the `:method` header. */
export const methods: Attribute = { side: 'permission', httpOnly: true, each: (v) => ({ header: headerMatcher(':method', v) }) };

/** `{*}` (one segment) and `{**}` (any number of segments) make a path a URI template. */
export function isPathTemplate(path: string): boolean {
  return path.includes('{*}') || path.includes('{**}');
}

// The characters of a path segment (RFC 3986 pchar), as Envoy's URI templates match them.
const pchar = "a-zA-Z0-9._~%!$&'()+,;:@=";

/**
 * A path template as a regular expression over the whole path, segment by segment: `{*}` is one
 * non-empty segment, `{**}` any run of segments and slashes. This is what Envoy's uri_template
 * matcher (Istio's translation) accepts, written as a url_path regex that every RBAC
 * implementation evaluates.
 */
export function pathTemplateRegex(path: string): string {
  return path.split('/').map((part) => {
    if (part === '{*}' || part === '*') return `[${pchar}-]+`;
    if (part === '{**}' || part === '**') return `[${pchar}/-]*`;
    return quoteRegex(part);
  }).join('/');
}

/** `paths`: the request path without its query (Envoy's url_path). */
export const paths: Attribute = {
  side: 'permission',
  httpOnly: true,
  each: (v) => ({ url_path: { path: isPathTemplate(v) ? regex(pathTemplateRegex(v)) : policyStringMatcher(v) } }),
};

/** `ports`, `destination.port`: the port the connection was made to. */
export const destinationPort: Attribute = {
  side: 'permission',
  httpOnly: false,
  each: (v): Generated => {
    const port = Number(v);
    if (!/^\d+$/.test(v) || port > 65535) return { error: `invalid port "${v}"` };
    return { destination_port: port };
  },
};

/** `destination.ip`: the address the connection was made to. */
export const destinationIp: Attribute = {
  side: 'permission',
  httpOnly: false,
  each: (v): Generated => {
    const c = cidrRange(v);
    return isError(c) ? c : { destination_ip: c };
  },
};

/** `connection.sni`: the TLS server name the client asked for. */
export const connectionSni: Attribute = {
  side: 'permission',
  httpOnly: false,
  each: (v) => ({ requested_server_name: policyStringMatcher(v) }),
};

/**
 * `experimental.envoy.filters.<filter>[<key>]`: a value in another filter's dynamic metadata.
 * A value written `[v]` matches an element of a list; otherwise the value itself is a string.
 */
export function envoyFilterMetadata(key: string): Attribute {
  return {
    side: 'permission',
    httpOnly: false,
    all: (values): Generated => {
      const rest = key.slice('experimental.'.length).replace(/\]$/, '');
      const open = rest.indexOf('[');
      if (open < 0) return { error: `invalid key "${key}": expected experimental.envoy.filters.<filter>[<key>]` };
      const matchers: ValueMatcher[] = values.map((v) => (v.startsWith('[') && v.endsWith(']')
        ? { list_match: { one_of: { string_match: policyStringMatcher(v.slice(1, -1)) } } }
        : { string_match: policyStringMatcher(v) }));
      const value = matchers.length === 1 ? matchers[0] : { or_match: { value_matchers: matchers } };
      return { metadata: { filter: rest.slice(0, open), path: [{ key: rest.slice(open + 1) }], value } };
    },
  };
}
