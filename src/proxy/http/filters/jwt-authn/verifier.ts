// envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement, compiled into a tree of verifiers
// (Envoy's verifier.cc), with Envoy's semantics:
// - provider_name / provider_and_audiences: the tokens at that provider's locations must all verify;
//   none there is "Jwt is missing";
// - allow_missing / allow_missing_or_failed: the tokens at any provider's locations are tried against
//   the provider of their issuer; a missing token (or, for the second, any failure) passes;
// - requires_any: passes as soon as a requirement passes; allow_missing / allow_missing_or_failed in
//   its list are flags of the list, not requirements: with allow_missing a request without any token
//   passes and one with an invalid token fails (the failure reported prefers a real error over
//   "issuer not configured" over "missing"), which is what Istio's RequestAuthentication relies on;
// - requires_all: every requirement must pass; the first failure is the answer.
// Requirements are checked in order and stop as soon as the answer is known; headers changed by a
// passing requirement (a forwarded token removed) are what the next one sees, as in Envoy.
import { FieldPath, checkFields, isPresent, message, repeated, requiredString, string, type Message } from '../../../upstream/envoy-config.ts';
import { Authenticator } from './authenticator.ts';
import type { VerifyContext } from './context.ts';
import type { JwtProvider } from './provider.ts';
import { JwtStatus, type JwtResult } from './status.ts';
import { TokenExtractor } from './token-extraction.ts';

export interface Verifier {
  verify(ctx: VerifyContext): JwtResult;
}

/** A leaf: extract the tokens of its locations and authenticate them. */
class TokenVerifier implements Verifier {
  readonly extractor: TokenExtractor;
  readonly authenticator: Authenticator;

  constructor(extractor: TokenExtractor, authenticator: Authenticator) {
    this.extractor = extractor;
    this.authenticator = authenticator;
  }

  verify(ctx: VerifyContext): JwtResult {
    const headers = ctx.stream.requestHeaders;
    this.extractor.sanitizeHeaders(headers);
    return this.authenticator.verify(ctx, this.extractor.extract(ctx.stream));
  }
}

class AllowAllVerifier implements Verifier {
  verify(): JwtResult {
    return JwtStatus.Ok;
  }
}

class AnyVerifier implements Verifier {
  readonly children: readonly Verifier[];
  readonly allowMissing: boolean;
  readonly allowMissingOrFailed: boolean;

  constructor(children: Verifier[], allowMissing: boolean, allowMissingOrFailed: boolean) {
    this.children = children;
    this.allowMissing = allowMissing;
    this.allowMissingOrFailed = allowMissingOrFailed;
  }

  verify(ctx: VerifyContext): JwtResult {
    return this.from(ctx, 0, []);
  }

  private from(ctx: VerifyContext, start: number, failures: JwtStatus[]): JwtResult {
    const children = this.children;
    for (let i = start; i < children.length; i++) {
      const result = children[i].verify(ctx);
      if (typeof result !== 'string') {
        return result.then((status) => {
          if (status === JwtStatus.Ok) return status;
          failures.push(status);
          return this.from(ctx, i + 1, failures);
        });
      }
      if (result === JwtStatus.Ok) return result;
      failures.push(result);
    }
    return this.aggregate(failures);
  }

  /** Envoy: prefer an error that is neither "missing" nor "unknown issuer", then "unknown issuer". */
  private aggregate(failures: readonly JwtStatus[]): JwtStatus {
    let status: JwtStatus = JwtStatus.Missing;
    for (const s of failures) {
      if ((s !== JwtStatus.Missing && s !== JwtStatus.UnknownIssuer) || status === JwtStatus.Missing) status = s;
    }
    if (this.allowMissingOrFailed) return JwtStatus.Ok;
    if (this.allowMissing && status === JwtStatus.Missing) return JwtStatus.Ok;
    return status;
  }
}

class AllVerifier implements Verifier {
  readonly children: readonly Verifier[];

  constructor(children: Verifier[]) {
    this.children = children;
  }

  verify(ctx: VerifyContext): JwtResult {
    return this.from(ctx, 0);
  }

  private from(ctx: VerifyContext, start: number): JwtResult {
    const children = this.children;
    for (let i = start; i < children.length; i++) {
      const result = children[i].verify(ctx);
      if (typeof result !== 'string') {
        return result.then((status) => (status === JwtStatus.Ok ? this.from(ctx, i + 1) : status));
      }
      if (result !== JwtStatus.Ok) return result;
    }
    return JwtStatus.Ok;
  }
}

const requirementKinds = ['provider_name', 'provider_and_audiences', 'requires_any', 'requires_all', 'allow_missing_or_failed', 'allow_missing'];
const requirementFields = new Set(requirementKinds);
const listFields = new Set(['requirements']);
const providerAndAudiencesFields = new Set(['provider_name', 'audiences']);

/** The providers of a config by name, and the verifiers that read every provider's locations (built once). */
export class ProviderSet {
  readonly byName: ReadonlyMap<string, JwtProvider>;
  readonly all: readonly JwtProvider[];
  private allExtractor: TokenExtractor | null = null;
  private leaves = new Map<string, TokenVerifier>();

  constructor(providers: Map<string, JwtProvider>) {
    this.byName = providers;
    this.all = [...providers.values()];
  }

  /** A leaf for one provider (audiences: provider_and_audiences'); shared by every requirement naming it. */
  providerVerifier(provider: JwtProvider, audiences: string[] | null): TokenVerifier {
    const key = audiences === null ? provider.name : `${provider.name}\n${audiences.join('\n')}`;
    let leaf = this.leaves.get(key);
    if (leaf === undefined) {
      leaf = new TokenVerifier(new TokenExtractor([provider]), new Authenticator(provider, this.all, audiences, false, false));
      this.leaves.set(key, leaf);
    }
    return leaf;
  }

  allProvidersVerifier(allowFailed: boolean): TokenVerifier {
    if (this.allExtractor === null) this.allExtractor = new TokenExtractor(this.all);
    return new TokenVerifier(this.allExtractor, new Authenticator(null, this.all, null, allowFailed, true));
  }
}

/** Which of the requires_type oneof's members a JwtRequirement sets. */
function kindsSet(r: Message): string[] {
  return requirementKinds.filter((k) => isPresent(r[k]) && r[k] !== '');
}

function providerNamed(at: FieldPath, providers: ProviderSet, value: unknown): JwtProvider {
  const name = requiredString(at, value);
  const provider = providers.byName.get(name);
  if (provider === undefined) at.reject(`names provider ${JSON.stringify(name)}, which is not configured in providers`);
  return provider;
}

function compileList(at: FieldPath, value: unknown): unknown[] {
  const list = message(at, value);
  checkFields(at, list, listFields);
  const requirements = repeated(at.field('requirements'), list.requirements);
  if (requirements.length < 2) at.field('requirements').reject('must have at least 2 requirements');
  return requirements;
}

/** A JwtRequirement; a message with nothing set lets every request through (Envoy's AllowAll). */
export function compileRequirement(at: FieldPath, value: unknown, providers: ProviderSet): Verifier {
  const r: Message = message(at, value);
  checkFields(at, r, requirementFields);
  const set = kindsSet(r);
  if (set.length > 1) at.reject(`sets ${set.join(' and ')}; at most one is allowed`);
  switch (set[0]) {
    case 'provider_name':
      return providers.providerVerifier(providerNamed(at.field('provider_name'), providers, r.provider_name), null);
    case 'provider_and_audiences': {
      const pp = at.field('provider_and_audiences');
      const pa = message(pp, r.provider_and_audiences);
      checkFields(pp, pa, providerAndAudiencesFields);
      const provider = providerNamed(pp.field('provider_name'), providers, pa.provider_name);
      const audiences = repeated(pp.field('audiences'), pa.audiences).map((a, i) => string(pp.field('audiences').item(i), a) ?? '');
      return providers.providerVerifier(provider, audiences.length === 0 ? null : audiences);
    }
    case 'requires_any': {
      const ap = at.field('requires_any');
      let allowMissing = false;
      let allowMissingOrFailed = false;
      const children: Verifier[] = [];
      compileList(ap, r.requires_any).forEach((child, i) => {
        const cp = ap.field('requirements').item(i);
        const c = message(cp, child);
        const kinds = kindsSet(c);
        if (kinds.length === 1 && kinds[0] === 'allow_missing_or_failed') allowMissingOrFailed = true;
        else if (kinds.length === 1 && kinds[0] === 'allow_missing') allowMissing = true;
        else children.push(compileRequirement(cp, c, providers));
      });
      // A list of only allow_missing / allow_missing_or_failed is that one requirement.
      if (children.length === 0) children.push(providers.allProvidersVerifier(allowMissingOrFailed));
      return new AnyVerifier(children, allowMissing, allowMissingOrFailed);
    }
    case 'requires_all': {
      const ap = at.field('requires_all');
      const children = compileList(ap, r.requires_all).map((child, i) => compileRequirement(ap.field('requirements').item(i), child, providers));
      return new AllVerifier(children);
    }
    case 'allow_missing_or_failed':
      return providers.allProvidersVerifier(true);
    case 'allow_missing':
      return providers.allProvidersVerifier(false);
    default:
      return new AllowAllVerifier();
  }
}
