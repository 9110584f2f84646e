// envoy.config.route.v3.HeaderMatcher, compiled at config time; matching follows Envoy's
// HeaderUtility::HeaderData::matchesHeaders (absent headers, present_match, invert_match).
import { FieldPath, bool, checkFields, message, requiredString, string, type Message } from '../../upstream/envoy-config.ts';
import { compileRegex, compileStringMatcher, legacyStringMatcher, regexStringMatcher, type StringMatcher } from './string-matcher.ts';

/** What route matching reads of a request. */
export interface RequestView {
  readonly method: string;
  /** Host / :authority as received (absolute-form: from the URL). */
  readonly authority: string;
  /** :path, query string included. */
  readonly path: string;
  /** Request headers as a flat [name, value, ...] list, names lower-cased, without host. */
  readonly requestHeaders: string[];
}

const Source = { Header: 0, Authority: 1, Path: 2, Method: 3, Scheme: 4 } as const;
type Source = (typeof Source)[keyof typeof Source];

/** All values of a header joined with ',' (as Envoy's getAllOfHeaderAsString), or undefined. */
export function headerValue(headers: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) value = value === undefined ? headers[i + 1] : `${value},${headers[i + 1]}`;
  }
  return value;
}

export class HeaderMatcher {
  readonly name: string;
  readonly source: Source;
  /** null: a presence match. */
  readonly matcher: StringMatcher | null;
  readonly present: boolean;
  readonly invert: boolean;
  readonly treatMissingAsEmpty: boolean;

  constructor(name: string, matcher: StringMatcher | null, present: boolean, invert: boolean, treatMissingAsEmpty: boolean) {
    this.name = name;
    this.source = name === ':authority' || name === 'host' ? Source.Authority
      : name === ':path' ? Source.Path
      : name === ':method' ? Source.Method
      : name === ':scheme' ? Source.Scheme
      : Source.Header;
    this.matcher = matcher;
    this.present = present;
    this.invert = invert;
    this.treatMissingAsEmpty = treatMissingAsEmpty;
  }

  matches(request: RequestView): boolean {
    let value: string | undefined;
    switch (this.source) {
      case Source.Header: value = headerValue(request.requestHeaders, this.name); break;
      case Source.Authority: value = request.authority; break;
      case Source.Path: value = request.path; break;
      case Source.Method: value = request.method; break;
      default: value = 'http';
    }
    if (value === undefined) {
      if (!this.treatMissingAsEmpty) {
        return this.matcher === null && (this.invert ? this.present : !this.present);
      }
      value = '';
    }
    const match = this.matcher === null ? this.present : this.matcher.match(value);
    return match !== this.invert;
  }
}

const headerMatcherFields = new Set([
  'name', 'exact_match', 'safe_regex_match', 'present_match', 'prefix_match', 'suffix_match', 'contains_match',
  'string_match', 'invert_match', 'treat_missing_header_as_empty',
]);

export function compileHeaderMatcher(at: FieldPath, value: unknown): HeaderMatcher {
  const m: Message = message(at, value);
  checkFields(at, m, headerMatcherFields);
  const name = requiredString(at.field('name'), m.name).toLowerCase();
  const invert = bool(at.field('invert_match'), m.invert_match) ?? false;
  const treatMissingAsEmpty = bool(at.field('treat_missing_header_as_empty'), m.treat_missing_header_as_empty) ?? false;
  const specifiers = ['exact_match', 'safe_regex_match', 'present_match', 'prefix_match', 'suffix_match', 'contains_match', 'string_match']
    .filter((k) => m[k] !== undefined && m[k] !== null);
  if (specifiers.length > 1) at.reject(`sets ${specifiers.join(' and ')}; only one header match specifier is allowed`);
  let matcher: StringMatcher | null = null;
  let present = true;
  switch (specifiers[0]) {
    case undefined: break; // no specifier: the header must be present
    case 'present_match': present = bool(at.field('present_match'), m.present_match)!; break;
    case 'string_match': matcher = compileStringMatcher(at.field('string_match'), m.string_match); break;
    case 'safe_regex_match': matcher = regexStringMatcher(compileRegex(at.field('safe_regex_match'), m.safe_regex_match)); break;
    default: {
      const field = specifiers[0] as 'exact_match' | 'prefix_match' | 'suffix_match' | 'contains_match';
      const expected = string(at.field(field), m[field]) ?? '';
      // Envoy: an empty exact_match matches any value of a present header.
      if (field === 'exact_match' && expected === '') break;
      matcher = legacyStringMatcher(field.slice(0, -'_match'.length) as 'exact' | 'prefix' | 'suffix' | 'contains', expected);
    }
  }
  return new HeaderMatcher(name, matcher, present, invert, treatMissingAsEmpty);
}
