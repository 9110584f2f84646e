// The control plane's certificate authority and workload tokens.
export { CertificateAuthority, clockSkewAllowanceMs, defaultCertificateTtlMs, defaultRootLifetimeMs } from './certificate-authority.ts';
export type { CaOptions, IssuedCertificate } from './certificate-authority.ts';
export { CaError } from './errors.ts';
export { spiffeId, type WorkloadIdentity } from './identity.ts';
export { keyAlgorithms, type KeyAlgorithm } from './keys.ts';
export { caKind } from './root-record.ts';
export { TokenAuthority, defaultTokenTtlMs, tokenIssuer, type TokenVerification } from './token-authority.ts';
export { issuedTokenKind, revokedTokenKind, type TokenClaims } from './token-records.ts';
export { tokenSigningKeyKind } from './token-signing-key.ts';
export { WorkloadCertificates, type WorkloadCertificatesOptions } from './workload-certificates.ts';
