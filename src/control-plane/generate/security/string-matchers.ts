// Istio's value syntax in authorization policies (`exact`, `prefix*`, `*suffix`, `*`) as Envoy
// StringMatcher and HeaderMatcher messages, the way Istio's authz matcher package spells them.
import type { StringMatcher } from './envoy-shapes.ts';

/** RE2 escaping of every regex metacharacter (Go's regexp.QuoteMeta). */
export function quoteRegex(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

export const exact = (value: string, ignoreCase = false): StringMatcher => withCase({ exact: value }, ignoreCase);
export const prefix = (value: string, ignoreCase = false): StringMatcher => withCase({ prefix: value }, ignoreCase);
export const suffix = (value: string, ignoreCase = false): StringMatcher => withCase({ suffix: value }, ignoreCase);
export const regex = (re: string): StringMatcher => ({ safe_regex: { regex: re } });

function withCase(m: StringMatcher, ignoreCase: boolean): StringMatcher {
  return ignoreCase ? { ...m, ignore_case: true } : m;
}

/**
 * A policy value with `extra` prepended to what it matches: `*` is any non-empty string (regex
 * `.+`: Envoy rejects empty prefixes and suffixes), `*x` ends with x, `x*` starts with x, anything
 * else is exact.
 */
export function policyStringMatcher(value: string, extra = ''): StringMatcher {
  if (value === '*') return regex('.+');
  if (value.startsWith('*')) {
    return extra === '' ? suffix(value.slice(1)) : regex(`${quoteRegex(extra)}.*${quoteRegex(value.slice(1))}`);
  }
  if (value.endsWith('*')) return prefix(extra + value.slice(0, -1));
  return exact(extra + value);
}

/** A route.v3.HeaderMatcher for a policy value: `*` only asks that the header be present. */
export function headerMatcher(name: string, value: string, ignoreCase = false): Record<string, unknown> {
  if (value === '*') return { name, present_match: true };
  if (value.startsWith('*')) return { name, string_match: suffix(value.slice(1), ignoreCase) };
  if (value.endsWith('*')) return { name, string_match: prefix(value.slice(0, -1), ignoreCase) };
  return { name, string_match: exact(value, ignoreCase) };
}
