// Keys, JWKS and tokens for JWT filter tests, made with jose as an identity provider would; and the
// Envoy v3 jwt_authn config as a control plane writes it (providers with inline local_jwks).
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, type JWK, type JWTPayload } from 'jose';

type Obj = Record<string, unknown>;

export const jwtAuthnTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
export const jwtPerRouteTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig';
export const jwtFilterName = 'envoy.filters.http.jwt_authn';

export type SigningKey = { alg: 'RS256' | 'ES256'; kid: string; privateKey: KeyObject; publicKey: KeyObject; jwk: JWK };

/** A fresh key pair and its public JWK (with kid, alg and use, as IdPs publish them). */
export async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const pair = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

export function jwks(...keys: JWK[]): string {
  return JSON.stringify({ keys });
}

/** Seconds since the epoch. */
export function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** A signed token; `header` adds to / overrides the protected header (kid defaults to the key's). */
export async function token(key: SigningKey, claims: JWTPayload, header: Obj = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned token (`alg: none`), as an attacker would send it. */
export function unsignedToken(claims: Obj): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
}

/** An HS256 token whose HMAC secret is `secret` (e.g. the bytes of an RSA public key: the key-confusion attack). */
export function hmacToken(secret: Buffer | string, claims: Obj, header: Obj = {}): string {
  const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT', ...header })}.${b64url(claims)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** A JwtProvider with an inline JWKS; `extra` adds Envoy fields (snake_case). */
export function provider(issuer: string, jwksText: string, extra: Obj = {}): Obj {
  return { issuer, local_jwks: { inline_string: jwksText }, ...extra };
}

/** The jwt_authn filter in http_filters. */
export function jwtFilter(config: Obj): Obj {
  return { name: jwtFilterName, typed_config: { '@type': jwtAuthnTypeUrl, ...config } };
}

/** typed_per_filter_config with a PerRouteConfig for the JWT filter (spread into a route). */
export function perRouteJwt(config: Obj): Obj {
  return { typed_per_filter_config: { [jwtFilterName]: { '@type': jwtPerRouteTypeUrl, ...config } } };
}

/** A rule requiring `requires` on paths with `prefix`. */
export function rule(prefix: string, requires?: Obj): Obj {
  return { match: { prefix }, ...(requires === undefined ? {} : { requires }) };
}
