// Verifies the tokens one requirement leaf found (Envoy's AuthenticatorImpl): for each token, from the
// last found, in Envoy's order — parse, issuer allowed at its location, the provider (fixed, or found
// by the token's iss for allow_missing / allow_missing_or_failed), nbf / exp with the clock skew,
// audiences, subject, lifetime, and last the signature (the only step that waits, and the only one
// that uses jose). Every token must pass unless failures or missing tokens are allowed.
import { applyVerifiedJwt } from './claims.ts';
import type { VerifyContext } from './context.ts';
import { normalizeAudience, type JwtProvider } from './provider.ts';
import { JwtStatus, thenStatus, type JwtResult } from './status.ts';
import type { ExtractedToken } from './token-extraction.ts';
import { parseJwt, type ParsedJwt } from './token.ts';

export class Authenticator {
  /** null: the provider is found by the token's issuer among `providers`. */
  readonly provider: JwtProvider | null;
  readonly providers: readonly JwtProvider[];
  /** provider_and_audiences: these replace the provider's audiences; null: the provider's. */
  readonly audiences: ReadonlySet<string> | null;
  readonly allowFailed: boolean;
  readonly allowMissing: boolean;

  constructor(provider: JwtProvider | null, providers: readonly JwtProvider[], audiences: readonly string[] | null,
    allowFailed: boolean, allowMissing: boolean) {
    this.provider = provider;
    this.providers = providers;
    this.audiences = audiences === null ? null : new Set(audiences.map(normalizeAudience));
    this.allowFailed = allowFailed;
    this.allowMissing = allowMissing;
  }

  /** `tokens` is consumed (verified from its end). */
  verify(ctx: VerifyContext, tokens: ExtractedToken[]): JwtResult {
    if (tokens.length === 0) return this.finish(JwtStatus.Missing);
    const token = tokens.pop()!;
    return thenStatus(this.verifyToken(ctx, token), (status) => {
      if ((status !== JwtStatus.Ok && !this.allowFailed && !this.allowMissing) || tokens.length === 0) return this.finish(status);
      return this.verify(ctx, tokens);
    });
  }

  private finish(status: JwtStatus): JwtStatus {
    if (this.allowFailed) return JwtStatus.Ok;
    if (this.allowMissing && status === JwtStatus.Missing) return JwtStatus.Ok;
    return status;
  }

  /** The first provider with the token's issuer, else the first without an issuer (Envoy's findByIssuer). */
  private providerFor(iss: string): JwtProvider | null {
    if (this.provider !== null) return this.provider;
    let any: JwtProvider | null = null;
    for (const p of this.providers) {
      if (p.issuer === iss) return p;
      if (p.issuer === '' && any === null) any = p;
    }
    return any;
  }

  private verifyToken(ctx: VerifyContext, token: ExtractedToken): JwtResult {
    const jwt = parseJwt(token.token);
    if (typeof jwt === 'string') return jwt;
    if (!token.issuers.allows(jwt.iss)) return JwtStatus.UnknownIssuer;
    const provider = this.providerFor(jwt.iss);
    if (provider === null) return JwtStatus.UnknownIssuer;
    const status = this.checkClaims(ctx, provider, jwt);
    if (status !== JwtStatus.Ok) return status;
    return thenStatus(provider.jwks.verify(jwt), (signature) => {
      if (signature === JwtStatus.Ok) applyVerifiedJwt(ctx, provider, token, jwt);
      return signature;
    });
  }

  private checkClaims(ctx: VerifyContext, provider: JwtProvider, jwt: ParsedJwt): JwtStatus {
    const now = ctx.now;
    const skew = provider.clockSkewSeconds;
    if (jwt.nbf > now + skew) return JwtStatus.NotYetValid;
    if (jwt.exp !== 0 && now > jwt.exp + skew) return JwtStatus.Expired;
    const allowed = this.audiences ?? provider.audiences;
    if (allowed.size > 0 && !jwt.audiences.some((a) => allowed.has(normalizeAudience(a)))) return JwtStatus.AudienceNotAllowed;
    if (provider.subjects !== null && !provider.subjects.match(jwt.sub)) return JwtStatus.VerificationFail;
    const maxLifetime = provider.maxLifetimeSeconds;
    if (maxLifetime !== null && (jwt.exp === 0 || jwt.exp - now >= maxLifetime)) return JwtStatus.Expired;
    return JwtStatus.Ok;
  }
}
