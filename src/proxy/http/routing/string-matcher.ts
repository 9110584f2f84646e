// envoy.type.matcher.v3.StringMatcher, compiled once at config time.
import { FieldPath, bool, checkFields, message, optionalMessage, string, type Message } from '../../upstream/envoy-config.ts';
import { compileRe2 } from './re2.ts';

const StringMatch = { Exact: 0, Prefix: 1, Suffix: 2, Contains: 3, Regex: 4 } as const;
type StringMatch = (typeof StringMatch)[keyof typeof StringMatch];

export class StringMatcher {
  readonly kind: StringMatch;
  /** Lower-cased when ignoreCase. */
  readonly value: string;
  readonly ignoreCase: boolean;
  readonly regex: RegExp | null;

  constructor(kind: StringMatch, value: string, ignoreCase: boolean, regex: RegExp | null) {
    this.kind = kind;
    this.value = ignoreCase ? value.toLowerCase() : value;
    this.ignoreCase = ignoreCase && regex === null;
    this.regex = regex;
  }

  match(input: string): boolean {
    const v = this.ignoreCase ? input.toLowerCase() : input;
    switch (this.kind) {
      case StringMatch.Exact: return v === this.value;
      case StringMatch.Prefix: return v.startsWith(this.value);
      case StringMatch.Suffix: return v.endsWith(this.value);
      case StringMatch.Contains: return v.includes(this.value);
      default: return this.regex!.test(input);
    }
  }
}

const regexMatcherFields = new Set(['regex', 'google_re2']);

/**
 * envoy.type.matcher.v3.RegexMatcher → a JS RegExp anchored for a full match (Envoy's safe_regex is
 * RE2 with full-match semantics; RE2-only syntax is translated by re2.ts).
 */
export function compileRegex(at: FieldPath, value: unknown, flags = ''): RegExp {
  const m = message(at, value);
  checkFields(at, m, regexMatcherFields);
  const source = string(at.field('regex'), m.regex);
  if (source === undefined) throw at.field('regex').error('is required');
  try {
    return compileRe2(source, flags, true);
  } catch (e) {
    throw at.field('regex').error(`is not a valid regular expression: ${(e as Error).message}`);
  }
}

const stringMatcherFields = new Set(['exact', 'prefix', 'suffix', 'contains', 'safe_regex', 'ignore_case']);

export function compileStringMatcher(at: FieldPath, value: unknown): StringMatcher {
  const m: Message = message(at, value);
  checkFields(at, m, stringMatcherFields);
  const ignoreCase = bool(at.field('ignore_case'), m.ignore_case) ?? false;
  const set = ['exact', 'prefix', 'suffix', 'contains', 'safe_regex'].filter((k) => m[k] !== undefined && m[k] !== null);
  if (set.length !== 1) throw at.error('must set exactly one of exact, prefix, suffix, contains, safe_regex');
  switch (set[0]) {
    case 'exact': return new StringMatcher(StringMatch.Exact, string(at.field('exact'), m.exact)!, ignoreCase, null);
    case 'prefix': return new StringMatcher(StringMatch.Prefix, string(at.field('prefix'), m.prefix)!, ignoreCase, null);
    case 'suffix': return new StringMatcher(StringMatch.Suffix, string(at.field('suffix'), m.suffix)!, ignoreCase, null);
    case 'contains': return new StringMatcher(StringMatch.Contains, string(at.field('contains'), m.contains)!, ignoreCase, null);
    default: {
      const regex = compileRegex(at.field('safe_regex'), optionalMessage(at.field('safe_regex'), m.safe_regex));
      return new StringMatcher(StringMatch.Regex, '', false, regex);
    }
  }
}

/** The string matcher for the deprecated HeaderMatcher forms (exact_match, prefix_match, ...). */
export function legacyStringMatcher(kind: 'exact' | 'prefix' | 'suffix' | 'contains', value: string): StringMatcher {
  const k = { exact: StringMatch.Exact, prefix: StringMatch.Prefix, suffix: StringMatch.Suffix, contains: StringMatch.Contains }[kind];
  return new StringMatcher(k, value, false, null);
}

export function regexStringMatcher(regex: RegExp): StringMatcher {
  return new StringMatcher(StringMatch.Regex, '', false, regex);
}
