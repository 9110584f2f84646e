// What the store knows of workload tokens: one record per token issued (never the token itself, only
// its claims) and one per token revoked. Both are keyed by the token's namespace and id (jti), so
// every replica and a restart see the same revocations.
import type { StoredResource } from '../store/index.ts';

export const issuedTokenKind = 'weft.io/IssuedToken';
export const revokedTokenKind = 'weft.io/RevokedToken';

export interface TokenClaims {
  namespace: string;
  serviceAccount: string;
  /** The token's jti. */
  id: string;
  issuedAt: Date;
  /** null for a token that never expires. */
  expiresAt: Date | null;
}

export interface TokenRecord { serviceAccount: string; issuedAt: string; expiresAt: string | null; revokedAt?: string }

export function toRecord(claims: TokenClaims): TokenRecord {
  return { serviceAccount: claims.serviceAccount, issuedAt: claims.issuedAt.toISOString(), expiresAt: claims.expiresAt?.toISOString() ?? null };
}

export function fromStored(stored: StoredResource): TokenClaims {
  const record = stored.value as TokenRecord;
  return {
    namespace: stored.namespace,
    serviceAccount: record.serviceAccount,
    id: stored.name,
    issuedAt: new Date(record.issuedAt),
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt),
  };
}
