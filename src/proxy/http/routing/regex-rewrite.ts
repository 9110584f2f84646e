// envoy.type.matcher.v3.RegexMatchAndSubstitute (a route's or a redirect's regex_rewrite): every match
// of the pattern in the path (without its query string) is replaced by the substitution, as RE2's
// GlobalReplace does; `\0`..`\9` in the substitution are capture groups, `\\` a backslash. The pattern
// and a replacer over the substitution's parts are built once at config time.
import { FieldPath, checkFields, message, string } from '../../upstream/envoy-config.ts';
import { compileRe2 } from './re2.ts';

const fields = new Set(['pattern', 'substitution']);
const regexMatcherFields = new Set(['regex', 'google_re2']);

export class RegexRewrite {
  readonly pattern: RegExp;
  /** Literal strings and group numbers, in order. */
  readonly parts: readonly (string | number)[];
  readonly replacer: (match: string, ...rest: unknown[]) => string;

  constructor(pattern: RegExp, parts: (string | number)[]) {
    this.pattern = pattern;
    this.parts = parts;
    this.replacer = (match: string, ...rest: unknown[]): string => {
      let out = '';
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        out += typeof p === 'string' ? p : p === 0 ? match : (rest[p - 1] as string | undefined) ?? '';
      }
      return out;
    };
  }

  /** The path with its query string: the rewrite applies to the path part, the query is kept. */
  rewrite(pathWithQuery: string): string {
    let end = pathWithQuery.indexOf('?');
    if (end === -1) end = pathWithQuery.indexOf('#');
    if (end === -1) return pathWithQuery.replace(this.pattern, this.replacer);
    return pathWithQuery.slice(0, end).replace(this.pattern, this.replacer) + pathWithQuery.slice(end);
  }
}

export function compileRegexRewrite(at: FieldPath, value: unknown): RegexRewrite {
  const m = message(at, value);
  checkFields(at, m, fields);
  const pp = at.field('pattern');
  const pattern = message(pp, m.pattern);
  checkFields(pp, pattern, regexMatcherFields);
  const source = string(pp.field('regex'), pattern.regex);
  if (source === undefined || source === '') throw pp.field('regex').error('is required');
  let regex: RegExp;
  try {
    regex = compileRe2(source, 'g', false);
  } catch (e) {
    throw pp.field('regex').error(`is not a valid regular expression: ${(e as Error).message}`);
  }
  const groups = (new RegExp(`${regex.source}|`, regex.flags.replace('g', '')).exec('')?.length ?? 1) - 1;
  const sp = at.field('substitution');
  const substitution = string(sp, m.substitution) ?? '';
  const parts: (string | number)[] = [];
  let literal = '';
  for (let i = 0; i < substitution.length; i++) {
    const c = substitution[i];
    if (c !== '\\') {
      literal += c;
      continue;
    }
    const next = substitution[i + 1];
    i++;
    if (next === '\\') {
      literal += '\\';
    } else if (next !== undefined && next >= '0' && next <= '9') {
      const group = Number(next);
      if (group > groups) sp.reject(`refers to group \\${group}, but the pattern has ${groups} capture group(s)`);
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(group);
    } else {
      sp.reject('has a \\ that is neither \\\\ nor a group reference \\0..\\9');
    }
  }
  if (literal !== '') parts.push(literal);
  return new RegexRewrite(regex, parts);
}
