// One attribute of an authorization rule (a source or operation field, or a `when` key) and how
// its values become Envoy RBAC matchers.
import type { RbacMatcher } from './envoy-shapes.ts';

/** A matcher, or why this value cannot be expressed here (e.g. an HTTP attribute on a TCP chain). */
export type Generated = RbacMatcher | { error: string };

export interface Attribute {
  /** Where Envoy's RBAC policy holds it: in the permissions (the request) or the principals (the caller). */
  side: 'permission' | 'principal';
  /** Only HTTP requests have it: on a TCP filter chain it cannot be evaluated. */
  httpOnly: boolean;
  /** One matcher per value, OR'ed together. */
  each?: (value: string) => Generated;
  /** One matcher for the whole list of values (the JWT attributes, which OR inside their value matcher). */
  all?: (values: string[]) => Generated;
}

export function isError(g: unknown): g is { error: string } {
  return typeof (g as { error?: unknown }).error === 'string';
}

/** A core.v3.CidrRange from `10.0.0.1` or `10.0.0.0/8` (a bare address is a whole-length prefix). */
export function cidrRange(value: string): Generated {
  const [address, len] = value.split('/', 2);
  const bits = address.includes(':') ? 128 : 32;
  const prefixLen = len === undefined ? bits : Number(len);
  if (address === '' || !Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > bits) {
    return { error: `invalid IP address or CIDR range "${value}"` };
  }
  return { address_prefix: address, prefix_len: { value: prefixLen } };
}
