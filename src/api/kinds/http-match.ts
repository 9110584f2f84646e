// HTTPMatchRequest and StringMatch: the conditions of an HTTP route in a VirtualService.

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

export const regexString = (): Schema<string> => string({
  check: (re) => {
    const problem = regexProblem(re);
    return problem === undefined ? undefined : { code: 'WEFT_E_INVALID_REGEX', message: `invalid regex: ${problem}` };
  },
});

export const stringMatch: Schema<StringMatch> = object<StringMatch>({
  exact: string(),
  prefix: string(),
  regex: regexString(),
}, { oneOf: [['exact', 'prefix', 'regex']] });

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

const headerMatches = (): Schema<Record<string, StringMatch>> => map(stringMatch, { key: matchHeaderNameProblem });

export const httpMatchRequest: Schema<HTTPMatchRequest> = object<HTTPMatchRequest>({
  name: string(),
  uri: stringMatch,
  scheme: stringMatch,
  method: stringMatch,
  authority: stringMatch,
  headers: headerMatches(),
  port: portNumber(),
  sourceLabels: labels(),
  gateways: array(string({ check: gatewayNameProblem })),
  queryParams: map(stringMatch),
  ignoreUriCase: boolean(),
  withoutHeaders: headerMatches(),
  sourceNamespace: string({ check: (ns) => (isIstioDnsLabel(ns) ? undefined : `"${ns}" is not a valid namespace name`) }),
  statPrefix: string(),
});
