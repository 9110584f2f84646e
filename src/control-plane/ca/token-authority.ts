// Workload tokens: how a workload outside Kubernetes proves who it is (DESIGN.md decision 5). A token
// is a JWT signed ES256 with a key in the store; claims iss "weft", sub the SPIFFE id, namespace,
// serviceAccount, jti, iat and (unless it never expires) exp. Revocations are stored, so every
// replica and a restart honour them.
import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { StoreConflictError, type Store } from '../store/index.ts';
import { invalidRequest } from './errors.ts';
import { checkIdentity, checkTrustDomain, spiffeId } from './identity.ts';
import { ensureTokenSigningKey, type TokenSigningKey } from './token-signing-key.ts';
import { fromStored, issuedTokenKind, revokedTokenKind, toRecord, type TokenClaims } from './token-records.ts';

export type { TokenClaims } from './token-records.ts';

export const tokenIssuer = 'weft';
export const defaultTokenTtlMs = 365 * 24 * 3600_000;
const algorithm = 'ES256';

export type TokenVerification = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

interface WeftTokenPayload extends JWTPayload { namespace?: unknown; serviceAccount?: unknown }

export class TokenAuthority {
  readonly #store: Store;
  readonly #trustDomain: string;
  readonly #key: TokenSigningKey;
  readonly #now: () => number;

  private constructor(store: Store, trustDomain: string, key: TokenSigningKey, now: () => number) {
    this.#store = store;
    this.#trustDomain = trustDomain;
    this.#key = key;
    this.#now = now;
  }

  /** Loads the signing key from the store, creating it on the very first start. */
  static async open(store: Store, options: { trustDomain: string; now?: () => number }): Promise<TokenAuthority> {
    const trustDomain = checkTrustDomain(options.trustDomain);
    return new TokenAuthority(store, trustDomain, await ensureTokenSigningKey(store), options.now ?? Date.now);
  }

  /** Issues a token; ttlMs defaults to 365 days, and 0 means it never expires (until revoked). */
  async create(req: { namespace: string; serviceAccount: string; ttlMs?: number }): Promise<{ token: string; claims: TokenClaims }> {
    const identity = checkIdentity(req);
    const ttlMs = req.ttlMs ?? defaultTokenTtlMs;
    if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 0) {
      throw invalidRequest(`ttlMs must be a whole number of milliseconds, 0 for a token that never expires; got ${String(ttlMs)}`);
    }
    const now = this.#now();
    const iat = Math.floor(now / 1000);
    const exp = ttlMs === 0 ? undefined : Math.max(iat + 1, Math.floor((now + ttlMs) / 1000));
    const claims: TokenClaims = {
      ...identity, id: randomUUID(), issuedAt: new Date(iat * 1000), expiresAt: exp === undefined ? null : new Date(exp * 1000),
    };
    const jwt = new SignJWT({ namespace: identity.namespace, serviceAccount: identity.serviceAccount })
      .setProtectedHeader({ alg: algorithm, kid: this.#key.keyId, typ: 'JWT' })
      .setIssuer(tokenIssuer)
      .setSubject(spiffeId(this.#trustDomain, identity))
      .setJti(claims.id)
      .setIssuedAt(iat);
    if (exp !== undefined) jwt.setExpirationTime(exp);
    const token = await jwt.sign(this.#key.privateKey);
    // Recorded before the token is handed out, so that it can be listed and revoked at once.
    await this.#store.commit([{ op: 'put', kind: issuedTokenKind, namespace: identity.namespace, name: claims.id, value: toRecord(claims) }]);
    return { token, claims };
  }

  /** Checks signature, issuer, expiry, claims and revocation. Never throws. */
  async verify(token: string): Promise<TokenVerification> {
    try {
      return await this.#verify(token);
    } catch (err) {
      return { ok: false, reason: `token could not be checked: ${(err as Error).message}` };
    }
  }

  async #verify(token: string): Promise<TokenVerification> {
    if (typeof token !== 'string' || token.split('.').length !== 3) return { ok: false, reason: 'malformed token' };
    let payload: WeftTokenPayload;
    try {
      ({ payload } = await jwtVerify<WeftTokenPayload>(token, this.#key.publicKey, {
        algorithms: [algorithm], issuer: tokenIssuer, currentDate: new Date(this.#now()),
      }));
    } catch (err) {
      return { ok: false, reason: reasonFor(err) };
    }
    const { namespace, serviceAccount, sub, jti, iat, exp } = payload;
    let identity;
    try {
      identity = checkIdentity({ namespace: namespace as string, serviceAccount: serviceAccount as string });
    } catch (err) {
      return { ok: false, reason: `malformed token claims: ${(err as Error).message}` };
    }
    if (typeof jti !== 'string' || jti === '') return { ok: false, reason: 'malformed token claims: jti missing' };
    if (typeof iat !== 'number') return { ok: false, reason: 'malformed token claims: iat missing' };
    const expected = spiffeId(this.#trustDomain, identity);
    if (sub !== expected) return { ok: false, reason: `token subject ${String(sub)} is not ${expected} (another trust domain?)` };
    if (this.#store.get(revokedTokenKind, identity.namespace, jti)) return { ok: false, reason: 'token revoked' };
    return {
      ok: true,
      claims: { ...identity, id: jti, issuedAt: new Date(iat * 1000), expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : null },
    };
  }

  /**
   * Revokes the token with this id (jti). Returns true if the id is a token this control plane
   * issued (revoking one twice is fine), false if no such token is known.
   */
  async revoke(id: string): Promise<boolean> {
    const issued = this.#store.list({ kind: issuedTokenKind }).find((r) => r.name === id);
    if (!issued) return false;
    const value = { ...toRecord(fromStored(issued)), revokedAt: new Date(this.#now()).toISOString() };
    try {
      await this.#store.commit([{ op: 'put', kind: revokedTokenKind, namespace: issued.namespace, name: id, value, expectedVersion: 0 }]);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err; // already revoked, here or by another replica
    }
    return true;
  }

  /** Tokens issued and neither revoked nor expired. */
  list(): TokenClaims[] {
    const now = this.#now();
    return this.#store.list({ kind: issuedTokenKind })
      .filter((r) => !this.#store.get(revokedTokenKind, r.namespace, r.name))
      .map(fromStored)
      .filter((c) => c.expiresAt === null || c.expiresAt.getTime() > now);
  }

  /** Tokens revoked and not yet expired (an expired token is refused anyway). */
  listRevoked(): TokenClaims[] {
    const now = this.#now();
    return this.#store.list({ kind: revokedTokenKind }).map(fromStored)
      .filter((c) => c.expiresAt === null || c.expiresAt.getTime() > now);
  }

  /** Deletes the records of expired tokens, which verify() refuses whatever the store says. Returns how many. */
  async pruneExpired(): Promise<number> {
    const now = this.#now();
    const expired = [...this.#store.list({ kind: issuedTokenKind }), ...this.#store.list({ kind: revokedTokenKind })]
      .filter((r) => { const c = fromStored(r); return c.expiresAt !== null && c.expiresAt.getTime() <= now; });
    if (expired.length === 0) return 0;
    await this.#store.commit(expired.map((r) => ({
      op: 'delete' as const, kind: r.kind, namespace: r.namespace, name: r.name, expectedVersion: r.resourceVersion,
    })));
    return expired.length;
  }
}

function reasonFor(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature (not signed by this control plane)';
  if (err instanceof errors.JOSEAlgNotAllowed) return `bad signature algorithm (only ${algorithm} is accepted)`;
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return `token was not issued by ${tokenIssuer}`;
    if (err.claim === 'nbf') return 'token is not valid yet';
    return `invalid token claim ${err.claim}: ${err.reason}`;
  }
  return 'malformed token';
}
