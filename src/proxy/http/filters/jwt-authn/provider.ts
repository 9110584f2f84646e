// envoy.extensions.filters.http.jwt_authn.v3.JwtProvider, compiled: who issues the tokens, which keys
// sign them, where they are found in a request and what a verified token leaves behind (forwarded
// payload, claim headers, dynamic metadata).
import {
  FieldPath, bool, checkFields, durationMs, integer, isPresent, optionalMessage, repeated, requiredString, string, type Message,
} from '../../../upstream/envoy-config.ts';
import { compileDataSource } from '../../../tls/data-source.ts';
import { compileStringMatcher, type StringMatcher } from '../../routing/string-matcher.ts';
import { compileJwks, type Jwks } from './jwks.ts';

const providerFields = new Set([
  'issuer', 'audiences', 'subjects', 'require_expiration', 'max_lifetime', 'local_jwks', 'forward', 'from_headers', 'from_params',
  'from_cookies', 'forward_payload_header', 'pad_forward_payload_header', 'payload_in_metadata', 'normalize_payload_in_metadata',
  'header_in_metadata', 'clock_skew_seconds', 'jwt_cache_config', 'claim_to_headers', 'clear_route_cache',
]);
const headerFields = new Set(['name', 'value_prefix']);
const claimFields = new Set(['header_name', 'claim_name']);
const cacheFields = new Set(['jwt_cache_size']);
const normalizeFields = new Set(['space_delimited_claims']);

/** RFC 7230 token: what node:http accepts as a header name. */
const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const invalidHeaderValue = /[^\t\x20-\x7e\x80-\xff]/;
/** jwt_verify's default clock skew. */
const defaultClockSkewSeconds = 60;

export type FromHeader = { readonly name: string; readonly valuePrefix: string };
export type ClaimToHeader = { readonly header: string; readonly path: readonly string[] };

export class JwtProvider {
  readonly name: string;
  /** '' : any issuer (the token's iss is not checked). */
  readonly issuer: string;
  /** Empty: the token's aud is not checked. Normalised as Envoy compares them (audiences.ts). */
  readonly audiences: ReadonlySet<string>;
  readonly subjects: StringMatcher | null;
  /** Longest remaining lifetime allowed, in seconds: Infinity with require_expiration, null when unchecked. */
  readonly maxLifetimeSeconds: number | null;
  readonly jwks: Jwks;
  readonly forward: boolean;
  /** Token locations; all three empty means the defaults (Authorization: Bearer, access_token). */
  readonly fromHeaders: readonly FromHeader[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  /** '' : the payload is not forwarded. */
  readonly forwardPayloadHeader: string;
  readonly padForwardPayloadHeader: boolean;
  readonly payloadInMetadata: string;
  readonly headerInMetadata: string;
  readonly spaceDelimitedClaims: readonly string[];
  readonly clockSkewSeconds: number;
  readonly claimToHeaders: readonly ClaimToHeader[];
  readonly clearRouteCache: boolean;

  constructor(name: string, fields: Omit<JwtProvider, 'name'>) {
    this.name = name;
    this.issuer = fields.issuer;
    this.audiences = fields.audiences;
    this.subjects = fields.subjects;
    this.maxLifetimeSeconds = fields.maxLifetimeSeconds;
    this.jwks = fields.jwks;
    this.forward = fields.forward;
    this.fromHeaders = fields.fromHeaders;
    this.fromParams = fields.fromParams;
    this.fromCookies = fields.fromCookies;
    this.forwardPayloadHeader = fields.forwardPayloadHeader;
    this.padForwardPayloadHeader = fields.padForwardPayloadHeader;
    this.payloadInMetadata = fields.payloadInMetadata;
    this.headerInMetadata = fields.headerInMetadata;
    this.spaceDelimitedClaims = fields.spaceDelimitedClaims;
    this.clockSkewSeconds = fields.clockSkewSeconds;
    this.claimToHeaders = fields.claimToHeaders;
    this.clearRouteCache = fields.clearRouteCache;
  }
}

/**
 * jwt_verify's CheckAudience compares audiences without an http:// or https:// scheme and without a
 * trailing slash, so `https://api.example.com/` in a token matches `api.example.com` in the config.
 */
export function normalizeAudience(audience: string): string {
  let a = audience;
  if (a.startsWith('http://')) a = a.slice(7);
  else if (a.startsWith('https://')) a = a.slice(8);
  if (a.endsWith('/')) a = a.slice(0, -1);
  return a;
}

function headerNameField(at: FieldPath, value: unknown, required: boolean): string {
  const s = required ? requiredString(at, value) : string(at, value) ?? '';
  if (s !== '' && !headerName.test(s)) at.reject(`${JSON.stringify(s)} is not a valid header name`);
  return s.toLowerCase();
}

function strings(at: FieldPath, value: unknown): string[] {
  return repeated(at, value).map((v, i) => requiredString(at.item(i), v));
}

export function compileProvider(name: string, config: Message, at: FieldPath): JwtProvider {
  if (isPresent(config.remote_jwks)) {
    at.field('remote_jwks').reject('is not supported: the control plane inlines JWKS as local_jwks');
  }
  if (isPresent(config.failed_status_in_metadata) && config.failed_status_in_metadata !== '') {
    at.field('failed_status_in_metadata').reject('is not supported');
  }
  checkFields(at, config, providerFields);
  if (!isPresent(config.local_jwks)) at.reject('must set local_jwks (remote_jwks is not supported)');
  const jwks = compileJwks(at.field('local_jwks'), compileDataSource(at.field('local_jwks'), config.local_jwks));

  const hp = at.field('from_headers');
  const fromHeaders = repeated(hp, config.from_headers).map((h, i): FromHeader => {
    const m = optionalMessage(hp.item(i), h) ?? {};
    checkFields(hp.item(i), m, headerFields);
    const valuePrefix = string(hp.item(i).field('value_prefix'), m.value_prefix) ?? '';
    if (invalidHeaderValue.test(valuePrefix)) hp.item(i).field('value_prefix').reject('is not a valid header value');
    return { name: headerNameField(hp.item(i).field('name'), m.name, true), valuePrefix };
  });

  const cp = at.field('claim_to_headers');
  const claimToHeaders = repeated(cp, config.claim_to_headers).map((c, i): ClaimToHeader => {
    const m = optionalMessage(cp.item(i), c) ?? {};
    checkFields(cp.item(i), m, claimFields);
    const header = headerNameField(cp.item(i).field('header_name'), m.header_name, true);
    const claim = requiredString(cp.item(i).field('claim_name'), m.claim_name);
    return { header, path: claim.split('.') };
  });

  const cache = optionalMessage(at.field('jwt_cache_config'), config.jwt_cache_config);
  if (cache !== undefined) {
    // A cache of verified tokens only saves work; without one every token is verified.
    checkFields(at.field('jwt_cache_config'), cache, cacheFields);
    integer(at.field('jwt_cache_config').field('jwt_cache_size'), cache.jwt_cache_size);
  }
  const np = at.field('normalize_payload_in_metadata');
  const normalize = optionalMessage(np, config.normalize_payload_in_metadata);
  if (normalize !== undefined) checkFields(np, normalize, normalizeFields);

  const skew = integer(at.field('clock_skew_seconds'), config.clock_skew_seconds) ?? 0;
  if (skew < 0) at.field('clock_skew_seconds').reject('must not be negative');
  const maxLifetimeMs = durationMs(at.field('max_lifetime'), config.max_lifetime);
  const requireExpiration = bool(at.field('require_expiration'), config.require_expiration) ?? false;
  const sp = at.field('subjects');
  const subjects = optionalMessage(sp, config.subjects);

  return new JwtProvider(name, {
    issuer: string(at.field('issuer'), config.issuer) ?? '',
    audiences: new Set(strings(at.field('audiences'), config.audiences).map(normalizeAudience)),
    subjects: subjects === undefined ? null : compileStringMatcher(sp, subjects),
    // max_lifetime takes precedence over require_expiration (which is an unlimited max lifetime).
    maxLifetimeSeconds: maxLifetimeMs !== undefined ? maxLifetimeMs / 1000 : requireExpiration ? Infinity : null,
    jwks,
    forward: bool(at.field('forward'), config.forward) ?? false,
    fromHeaders,
    fromParams: strings(at.field('from_params'), config.from_params),
    fromCookies: strings(at.field('from_cookies'), config.from_cookies),
    forwardPayloadHeader: headerNameField(at.field('forward_payload_header'), config.forward_payload_header, false),
    padForwardPayloadHeader: bool(at.field('pad_forward_payload_header'), config.pad_forward_payload_header) ?? false,
    payloadInMetadata: string(at.field('payload_in_metadata'), config.payload_in_metadata) ?? '',
    headerInMetadata: string(at.field('header_in_metadata'), config.header_in_metadata) ?? '',
    spaceDelimitedClaims: normalize === undefined ? [] : strings(np.field('space_delimited_claims'), normalize.space_delimited_claims),
    clockSkewSeconds: skew > 0 ? skew : defaultClockSkewSeconds,
    claimToHeaders,
    clearRouteCache: bool(at.field('clear_route_cache'), config.clear_route_cache) ?? false,
  });
}
