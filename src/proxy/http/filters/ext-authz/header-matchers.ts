// Which headers cross between the request, the authorization service and the response: each list of
// the ExtAuthz config is an envoy.type.matcher.v3.ListStringMatcher over lower-cased header names,
// compiled once with the config. Envoy adds fixed names to some lists (the request's Authorization,
// the denial's Location and WWW-Authenticate); those are folded in here so the request path asks one
// question per header.
import { FieldPath, checkFields, optionalMessage, repeated } from '../../../upstream/envoy-config.ts';
import { compileStringMatcher, type StringMatcher } from '../../routing/string-matcher.ts';

const listStringMatcherFields = new Set(['patterns']);

export class HeaderNameMatcher {
  readonly patterns: readonly StringMatcher[];
  /** Names that match whatever the patterns say. */
  readonly always: ReadonlySet<string>;
  /** Matches every name but `always` (Envoy's "no list: all headers except ..."). */
  readonly allExcept: boolean;

  constructor(patterns: readonly StringMatcher[], always: ReadonlySet<string>, allExcept: boolean) {
    this.patterns = patterns;
    this.always = always;
    this.allExcept = allExcept;
  }

  /** `name` is lower-cased. */
  matches(name: string): boolean {
    if (this.allExcept) return !this.always.has(name);
    if (this.always.has(name)) return true;
    const patterns = this.patterns;
    for (let i = 0; i < patterns.length; i++) if (patterns[i].match(name)) return true;
    return false;
  }
}

/** A ListStringMatcher's patterns; null when the list is not set. Envoy requires at least one pattern. */
export function compileListStringMatcher(at: FieldPath, value: unknown): StringMatcher[] | null {
  const list = optionalMessage(at, value);
  if (list === undefined) return null;
  checkFields(at, list, listStringMatcherFields);
  const pp = at.field('patterns');
  const patterns = repeated(pp, list.patterns);
  if (patterns.length === 0) pp.reject('must have at least one pattern');
  return patterns.map((p, i) => compileStringMatcher(pp.item(i), p));
}

/** A list, plus `always`; an unset list matches only `always`. */
export function namesPlus(patterns: StringMatcher[] | null, always: readonly string[]): HeaderNameMatcher {
  return new HeaderNameMatcher(patterns ?? [], new Set(always), false);
}

/** A list, or when unset every name except `excluded`. */
export function namesOrAllExcept(patterns: StringMatcher[] | null, withList: readonly string[], excluded: readonly string[]): HeaderNameMatcher {
  if (patterns === null) return new HeaderNameMatcher([], new Set(excluded), true);
  return new HeaderNameMatcher(patterns, new Set(withList), false);
}

/** A list that matches nothing when unset; null then, so the request path can skip it. */
export function namesOrNone(patterns: StringMatcher[] | null): HeaderNameMatcher | null {
  return patterns === null ? null : new HeaderNameMatcher(patterns, new Set(), false);
}
