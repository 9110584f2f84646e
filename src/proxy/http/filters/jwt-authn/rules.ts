// JwtAuthentication.rules: which requirement a request must meet, by route match (prefix, path or
// safe_regex, plus headers and query_parameters, as a route's RouteMatch); the first rule that
// matches decides, and a request no rule matches is not verified.
import {
  FieldPath, boolWrapper, checkFields, isPresent, message, repeated, requiredString, type Message,
} from '../../../upstream/envoy-config.ts';
import { compileHeaderMatcher, type RequestView } from '../../routing/header-matcher.ts';
import { compileQueryParameterMatcher } from '../../routing/query-parameter-matcher.ts';
import { PathMatch, Route } from '../../routing/route-table.ts';
import { compileRegex } from '../../routing/string-matcher.ts';
import type { Verifier } from './verifier.ts';

const ruleFields = new Set(['match', 'requires', 'requirement_name']);
const matchFields = new Set(['prefix', 'path', 'safe_regex', 'case_sensitive', 'headers', 'query_parameters']);

export class JwtRule {
  /** A route used only for its match (no action): the same matching code as routing. */
  readonly match: Route;
  /** null: the rule requires nothing (the request passes unverified). */
  readonly verifier: Verifier | null;

  constructor(match: Route, verifier: Verifier | null) {
    this.match = match;
    this.verifier = verifier;
  }
}

function compileMatch(at: FieldPath, value: unknown): Route {
  const match = message(at, value);
  checkFields(at, match, matchFields);
  const kinds = ['prefix', 'path', 'safe_regex'].filter((k) => isPresent(match[k]));
  if (kinds.length !== 1) at.reject(kinds.length === 0 ? 'must set prefix, path or safe_regex' : `sets ${kinds.join(' and ')}; exactly one is allowed`);
  const caseSensitive = boolWrapper(at.field('case_sensitive'), match.case_sensitive) ?? true;
  let pathMatch: PathMatch;
  let pathValue = '';
  let regex: RegExp | null = null;
  if (kinds[0] === 'safe_regex') {
    pathMatch = PathMatch.Regex;
    regex = compileRegex(at.field('safe_regex'), match.safe_regex);
  } else {
    pathMatch = kinds[0] === 'path' ? PathMatch.Exact : PathMatch.Prefix;
    const v = match[kinds[0]];
    if (typeof v !== 'string') throw at.field(kinds[0]).error('must be a string');
    pathValue = v;
  }
  const headers = repeated(at.field('headers'), match.headers).map((h, i) => compileHeaderMatcher(at.field('headers').item(i), h));
  const query = repeated(at.field('query_parameters'), match.query_parameters)
    .map((q, i) => compileQueryParameterMatcher(at.field('query_parameters').item(i), q));
  return new Route('', '', pathMatch, pathValue, caseSensitive, regex, headers, query, null, null, null, null, null, null);
}

export function compileRule(at: FieldPath, value: unknown, requirement: (at: FieldPath, value: unknown) => Verifier,
  named: ReadonlyMap<string, Verifier>): JwtRule {
  const rule: Message = message(at, value);
  checkFields(at, rule, ruleFields);
  if (!isPresent(rule.match)) at.field('match').reject('is required');
  const match = compileMatch(at.field('match'), rule.match);
  const hasName = isPresent(rule.requirement_name) && rule.requirement_name !== '';
  if (hasName && isPresent(rule.requires)) at.reject('sets requires and requirement_name; at most one is allowed');
  if (hasName) {
    const np = at.field('requirement_name');
    const name = requiredString(np, rule.requirement_name);
    const verifier = named.get(name);
    if (verifier === undefined) throw np.error(`names requirement ${JSON.stringify(name)}, which is not in requirement_map`);
    return new JwtRule(match, verifier);
  }
  return new JwtRule(match, isPresent(rule.requires) ? requirement(at.field('requires'), rule.requires) : null);
}

/** The first matching rule's verifier; null when no rule matches or it requires nothing. */
export function verifierFor(rules: readonly JwtRule[], request: RequestView): Verifier | null {
  if (rules.length === 0) return null;
  const full = request.path;
  let q = full.indexOf('?');
  if (q === -1) q = full.indexOf('#');
  const path = q === -1 ? full : full.slice(0, q);
  for (let i = 0; i < rules.length; i++) if (rules[i].match.matches(request, path)) return rules[i].verifier;
  return null;
}
