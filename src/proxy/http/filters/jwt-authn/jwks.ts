// A provider's JSON Web Key Set (RFC 7517), parsed and imported once when the config arrives: each
// usable key becomes a node:crypto KeyObject (jose caches what it derives from it), so a request only
// picks keys and checks one signature.
//
// Key choice follows Envoy's jwt_verify: a key whose `kid` differs from the token's (both set) or whose
// `alg` differs from the token's is skipped, and the key type must fit the algorithm: RSA for RS*/PS*,
// EC on the algorithm's curve for ES*, OKP for EdDSA, and only `oct` keys for HS* — an asymmetric key
// is never used as an HMAC secret, so a token "signed" with a public key's bytes finds no key. No
// fitting key: "Jwks doesn't have key to match kid or alg from Jwt"; fitting keys that all refuse the
// signature: "Jwt verification fails".
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import type { FieldPath } from '../../../upstream/envoy-config.ts';
import { JwtStatus, type JwtResult } from './status.ts';
import type { ParsedJwt } from './token.ts';

const curveOfAlg: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
/** The public members a key of each type must carry (node:crypto would accept some of them empty). */
const requiredMembers: Record<string, readonly string[]> = { RSA: ['n', 'e'], EC: ['x', 'y'], OKP: ['crv', 'x'] };

export class JwksKey {
  /** '' when the key has none. */
  readonly kid: string;
  readonly alg: string;
  readonly kty: string;
  readonly crv: string;
  readonly key: KeyObject;

  constructor(kid: string, alg: string, kty: string, crv: string, key: KeyObject) {
    this.kid = kid;
    this.alg = alg;
    this.kty = kty;
    this.crv = crv;
    this.key = key;
  }

  /** Whether this key may verify a token signed with `alg` (Envoy's per-type rules). */
  fits(alg: string): boolean {
    if (this.alg !== '' && this.alg !== alg) return false;
    switch (this.kty) {
      case 'RSA': return alg.startsWith('RS') || alg.startsWith('PS');
      case 'EC': return alg.startsWith('ES') && this.crv === curveOfAlg[alg];
      case 'oct': return alg.startsWith('HS');
      case 'OKP': return alg === 'EdDSA';
      default: return false;
    }
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** One JWK → a key, or why it cannot be used. */
function importKey(jwk: Record<string, unknown>): JwksKey | string {
  const kty = jwk.kty;
  if (typeof kty !== 'string') return '[kty] is missing in [keys]';
  const alg = text(jwk.alg);
  let key: KeyObject;
  try {
    if (kty === 'oct') {
      if (typeof jwk.k !== 'string' || jwk.k === '') return '[k] field is missing for an HMAC key';
      if (alg !== '' && !alg.startsWith('HS')) return '[alg] does not start with [HS] for an HMAC key';
      key = createSecretKey(Buffer.from(jwk.k, 'base64url'));
    } else if (kty === 'RSA' || kty === 'EC' || kty === 'OKP') {
      const missing = requiredMembers[kty].find((m) => typeof jwk[m] !== 'string' || jwk[m] === '');
      if (missing !== undefined) return `[${missing}] field is missing for ${kty === 'EC' ? 'an' : 'a'} ${kty} key`;
      // Only the public members: a JWKS that carries private parts still yields a public key.
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...publicJwk } = jwk;
      key = createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    } else {
      return `[kty] ${JSON.stringify(kty)} is not supported in [keys]`;
    }
  } catch (err) {
    return `${kty} key cannot be imported: ${(err as Error).message}`;
  }
  let crv = text(jwk.crv);
  // Envoy reads an EC key without crv as P-256 when its alg is ES256 (or unset).
  if (kty === 'EC' && crv === '') crv = alg === '' ? 'P-256' : curveOfAlg[alg] ?? '';
  return new JwksKey(text(jwk.kid), alg, kty, crv, key);
}

export class Jwks {
  readonly keys: readonly JwksKey[];
  /** Why some keys were left out (for the config dump and logs); empty when all were usable. */
  readonly skipped: readonly string[];

  constructor(keys: JwksKey[], skipped: string[]) {
    this.keys = keys;
    this.skipped = skipped;
  }

  /** Checks the token's signature with the keys that fit it, in order, until one accepts it. */
  verify(jwt: ParsedJwt): JwtResult {
    if (this.keys.length === 0) return JwtStatus.JwksNoValidKeys;
    const candidates: KeyObject[] = [];
    for (const key of this.keys) {
      if (jwt.kid !== '' && key.kid !== '' && key.kid !== jwt.kid) continue;
      if (key.fits(jwt.alg)) candidates.push(key.key);
    }
    if (candidates.length === 0) return JwtStatus.JwksKidAlgMismatch;
    return tryKeys(jwt, candidates, 0);
  }
}

async function tryKeys(jwt: ParsedJwt, candidates: KeyObject[], from: number): Promise<JwtStatus> {
  const algorithms = [jwt.alg];
  for (let i = from; i < candidates.length; i++) {
    try {
      await compactVerify(jwt.token, candidates[i], { algorithms });
      return JwtStatus.Ok;
    } catch {
      // The next key may be the one.
    }
  }
  return JwtStatus.VerificationFail;
}

/**
 * The JWKS text of local_jwks. Text that is not a JWKS rejects the config; keys that cannot be used are
 * left out (as Envoy does), and a set without any usable key makes every token fail with
 * "Jwks doesn't have any valid public key".
 */
export function compileJwks(at: FieldPath, source: Buffer): Jwks {
  let value: unknown;
  try {
    value = JSON.parse(source.toString('utf8'));
  } catch {
    return at.reject('is not a JSON Web Key Set: not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) at.reject('is not a JSON Web Key Set: not a JSON object');
  const keys = (value as Record<string, unknown>).keys;
  if (!Array.isArray(keys)) at.reject('is not a JSON Web Key Set: it has no [keys] array');
  const usable: JwksKey[] = [];
  const skipped: string[] = [];
  keys.forEach((jwk: unknown, i) => {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
      skipped.push(`keys[${i}]: not an object`);
      return;
    }
    const key = importKey(jwk as Record<string, unknown>);
    if (typeof key === 'string') skipped.push(`keys[${i}]: ${key}`);
    else usable.push(key);
  });
  return new Jwks(usable, skipped);
}
