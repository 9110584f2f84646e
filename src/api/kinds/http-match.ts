// HTTPMatchRequest and StringMatch: the conditions of an HTTP route in a VirtualService.
//
// Istio's rules for a StringMatch (validateStringMatch): a prefix may be empty only in `uri` (Envoy
// accepts an empty path prefix; it rejects an empty header prefix); a regex must not be empty, must
// be at most 1024 characters (Envoy's RE2 program size limit, approximated by length) and must
// compile as RE2. In `withoutHeaders`, `regex: "*"` is not a regex: it means "the header is present".

import { array, boolean, map, object, string, type Schema } from '../schema.ts';
import { isIstioDnsLabel, matchHeaderNameProblem } from '../names.ts';
import { regexProblem } from '../regex.ts';
import { labels, portNumber } from './common.ts';
import { gatewayNameProblem } from './destination.ts';

/** Match a string exactly, by prefix, or by an RE2 regular expression (at most one of them). */
export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

/** Envoy rejects longer regexes (re2.max_program_size); Istio approximates the program size by the length. */
export const MAX_REGEX_LENGTH = 1024;

export const regexString = (options: { presenceStar?: boolean } = {}): Schema<string> => string({
  check: (re) => {
    if (options.presenceStar && re === '*') return undefined;
    if (re === '') return 'must not be empty';
    if (re.length > MAX_REGEX_LENGTH) {
      return { code: 'WEFT_E_INVALID_REGEX', message: `regex is too long (${re.length} characters; at most ${MAX_REGEX_LENGTH})` };
    }
    const problem = regexProblem(re);
    return problem === undefined ? undefined : { code: 'WEFT_E_INVALID_REGEX', message: `invalid regex: ${problem}` };
  },
});

/**
 * A StringMatch schema. `emptyPrefix`: a prefix may be "" (only `uri`); `presenceStar`: `regex: "*"`
 * means presence (only `withoutHeaders`).
 */
export function stringMatchOf(options: { emptyPrefix?: boolean; presenceStar?: boolean } = {}): Schema<StringMatch> {
  return object<StringMatch>({
    exact: string(),
    prefix: string({ check: (p) => (p === '' && !options.emptyPrefix ? 'must not be empty (omit the match to match any value)' : undefined) }),
    regex: regexString({ presenceStar: options.presenceStar }),
  }, { oneOf: [['exact', 'prefix', 'regex']] });
}

export const stringMatch: Schema<StringMatch> = stringMatchOf();

export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  queryParams?: Record<string, StringMatch>;
  ignoreUriCase?: boolean;
  withoutHeaders?: Record<string, StringMatch>;
  sourceNamespace?: string;
  statPrefix?: string;
}

const headerMatches = (values: Schema<StringMatch>): Schema<Record<string, StringMatch>> => map(values, { key: matchHeaderNameProblem });

export const httpMatchRequest: Schema<HTTPMatchRequest> = object<HTTPMatchRequest>({
  name: string(),
  uri: stringMatchOf({ emptyPrefix: true }),
  scheme: stringMatch,
  method: stringMatch,
  authority: stringMatch,
  headers: headerMatches(stringMatch),
  port: portNumber(),
  sourceLabels: labels(),
  gateways: array(string({ check: gatewayNameProblem })),
  queryParams: map(stringMatch),
  ignoreUriCase: boolean(),
  withoutHeaders: headerMatches(stringMatchOf({ presenceStar: true })),
  sourceNamespace: string({ check: (ns) => (isIstioDnsLabel(ns) ? undefined : `"${ns}" is not a valid namespace name`) }),
  statPrefix: string(),
});
