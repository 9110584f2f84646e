// envoy.config.route.v3.QueryParameterMatcher, compiled at config time. Matching reads the first
// value of the parameter, URL-decoded (Envoy's parseAndDecodeQueryString).
import { FieldPath, bool, checkFields, message, requiredString, type Message } from '../../upstream/envoy-config.ts';
import { compileStringMatcher, type StringMatcher } from './string-matcher.ts';

const fields = new Set(['name', 'string_match', 'present_match']);

export class QueryParameterMatcher {
  readonly name: string;
  /** null: the parameter only has to be present. */
  readonly matcher: StringMatcher | null;

  constructor(name: string, matcher: StringMatcher | null) {
    this.name = name;
    this.matcher = matcher;
  }

  /** `params` is parsed once per request, and only for routes that have query matchers. */
  matches(params: URLSearchParams): boolean {
    const value = params.get(this.name);
    if (value === null) return false;
    return this.matcher === null || this.matcher.match(value);
  }
}

export function compileQueryParameterMatcher(at: FieldPath, value: unknown): QueryParameterMatcher {
  const m: Message = message(at, value);
  checkFields(at, m, fields);
  const name = requiredString(at.field('name'), m.name);
  const hasString = m.string_match !== undefined && m.string_match !== null;
  const present = bool(at.field('present_match'), m.present_match);
  if (hasString && present !== undefined) at.reject('sets string_match and present_match; only one is allowed');
  if (!hasString && present === false) at.field('present_match').reject('false is not supported (use invert on a route instead)');
  return new QueryParameterMatcher(name, hasString ? compileStringMatcher(at.field('string_match'), m.string_match) : null);
}
