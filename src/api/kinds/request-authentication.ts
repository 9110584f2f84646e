// RequestAuthentication (security.istio.io): which JSON Web Tokens the selected workloads accept,
// where to find them and which keys verify them. A request with an invalid token is rejected; a
// request with no token passes (AuthorizationPolicy decides whether that is allowed).
// Validation follows Istio's (pilot's validateJwtRule and the CRD's rules).

import { array, boolean, duration, enumOf, object, report, string, type Context, type Problem, type Schema } from '../schema.ts';
import { isPlainObject } from '../schema.ts';
import { workloadSelector } from './common.ts';
import { nonEmptyProblem } from './authorization-values.ts';
import { checkOneTarget, policyTargetReference, policyTargetReferences } from './policy-target.ts';
import type { ClaimToHeader, JwtHeader, JwtPresence, JwtRule, RequestAuthenticationSpec } from './security-types.ts';

/** The JWKS URI of a rule, whichever of Istio's two spellings (jwksUri, jwks_uri) it uses. */
export function jwksUriOf(rule: JwtRule): string | undefined {
  return rule.jwksUri ?? rule.jwks_uri;
}

/** An http(s) URL, at most 2048 characters: where the proxy fetches the key set. */
export function jwksUriProblem(uri: string): Problem {
  if (uri === '') return 'must not be empty';
  if (uri.length > 2048) return 'must be at most 2048 characters';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri}" is not a valid URL`;
  }
  // http and https URLs always have a host once parsed (WHATWG rules).
  return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : `"${uri}": the URL scheme must be http or https`;
}

/** A JSON Web Key Set (or a single key), as JSON text: each key needs its type (`kty`). */
export function jwksProblem(text: string): Problem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return `is not valid JSON: ${(e as Error).message}`;
  }
  if (!isPlainObject(value)) return 'must be a JSON Web Key Set: a JSON object with "keys"';
  const keys = value.keys === undefined ? [value] : value.keys;
  if (!Array.isArray(keys)) return 'must be a JSON Web Key Set: "keys" must be an array';
  const bad = keys.findIndex((k) => !isPlainObject(k) || typeof k.kty !== 'string' || k.kty === '');
  return bad < 0 ? undefined : `key ${bad} of the JSON Web Key Set has no "kty" (key type)`;
}

// Header names a claim is copied into: letters, digits, "-" and "_" (Istio's CRD rule).
function claimHeaderProblem(h: string): Problem {
  if (h === '') return 'must not be empty';
  return /^[-_A-Za-z0-9]+$/.test(h) ? undefined : `"${h}" is not a valid header name (letters, digits, "-" and "_")`;
}

const jwtHeader: Schema<JwtHeader> = object<JwtHeader>({
  name: string({ check: nonEmptyProblem }),
  prefix: string(),
}, { required: ['name'] });

const claimToHeader: Schema<ClaimToHeader> = object<ClaimToHeader>({
  header: string({ check: claimHeaderProblem }),
  claim: string({ check: nonEmptyProblem }),
}, { required: ['header', 'claim'] });

const nonEmptyStrings = (options: { maxItems?: number } = {}) => array(string({ check: nonEmptyProblem }), options);

const PRESENCE: readonly JwtPresence[] = ['OPTIONAL', 'REQUIRED'];

function checkJwtRule(rule: JwtRule, path: string, ctx: Context): void {
  const keySources = (['jwksUri', 'jwks_uri', 'jwks'] as const).filter((k) => rule[k] !== undefined);
  if (keySources.length > 1) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, `only one of jwksUri, jwks_uri, jwks may be set (found ${keySources.join(' and ')})`);
  }
}

export const jwtRule: Schema<JwtRule> = object<JwtRule>({
  issuer: string({ check: nonEmptyProblem }),
  audiences: nonEmptyStrings(),
  jwksUri: string({ check: jwksUriProblem }),
  jwks_uri: string({ check: jwksUriProblem }),
  jwks: string({ check: jwksProblem }),
  fromHeaders: array(jwtHeader),
  fromParams: nonEmptyStrings(),
  fromCookies: nonEmptyStrings(),
  outputPayloadToHeader: string({ check: (h) => (h === '' ? undefined : claimHeaderProblem(h)) }),
  forwardOriginalToken: boolean(),
  outputClaimToHeaders: array(claimToHeader),
  timeout: duration(),
  spaceDelimitedClaims: nonEmptyStrings({ maxItems: 64 }),
  presence: enumOf(PRESENCE),
}, { required: ['issuer'], check: checkJwtRule });

export const requestAuthenticationSpec: Schema<RequestAuthenticationSpec> = object<RequestAuthenticationSpec>({
  selector: workloadSelector,
  targetRef: policyTargetReference,
  targetRefs: policyTargetReferences,
  jwtRules: array(jwtRule, { maxItems: 4096 }),
}, { check: (ra, path, ctx) => checkOneTarget(ra, path, ctx) });
