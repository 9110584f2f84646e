// The secure context of one TLS context (a filter chain's DownstreamTlsContext, a cluster's or a
// transport socket match's UpstreamTlsContext): inline certificates and roots, or SDS secrets by name
// (tls_certificate_sds_secret_configs, validation_context_sds_secret_config), or a mix. resolve() gives
// what a new connection uses: it is rebuilt once after a referenced secret changed (on the first
// connection that follows; a secret object is replaced only when its content changes) and reused
// until the next change, so a rotation reaches new connections while open ones keep theirs. A
// referenced secret that has not arrived yet (or holds the other kind) makes resolve() return the
// reason instead: the connection fails cleanly until it arrives.
import tls, { type SecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import type { SanMatcher } from './san-matcher.ts';
import type { CompiledSecret } from './secret-config.ts';
import type { SecretStore } from './secret-store.ts';

export type TlsContextParts = {
  /** Inline tls_certificates[0]; null when none or when it comes from a secret. */
  certificate: { certificateChain: Buffer; privateKey: Buffer } | null;
  /** tls_certificate_sds_secret_configs[0].name; null: none. */
  certificateSecret: string | null;
  /** Inline validation_context.trusted_ca. */
  trustedCa: Buffer | null;
  /** validation_context_sds_secret_config (plain or combined) name; null: none. */
  validationSecret: string | null;
  /** SAN matchers of the inline (or combined default) validation context. */
  sanMatchers: SanMatcher[];
  minVersion: SecureVersion | undefined;
  maxVersion: SecureVersion | undefined;
};

export class ResolvedTls {
  readonly options: SecureContextOptions;
  /** The inline matchers and those of the validation secret. */
  readonly sanMatchers: SanMatcher[];
  private context: SecureContext | null = null;

  constructor(options: SecureContextOptions, sanMatchers: SanMatcher[]) {
    this.options = options;
    this.sanMatchers = sanMatchers;
  }

  /** Built on first use (a tls.Server builds its own from `options`). */
  get secureContext(): SecureContext {
    this.context ??= tls.createSecureContext(this.options);
    return this.context;
  }
}

export class TlsContextSource {
  readonly parts: TlsContextParts;
  private readonly store: SecretStore | null;
  private lastCertificate: CompiledSecret | undefined;
  private lastValidation: CompiledSecret | undefined;
  private resolved: ResolvedTls | null = null;

  constructor(parts: TlsContextParts, store: SecretStore | null) {
    this.parts = parts;
    this.store = store;
  }

  /** Whether it uses SDS secrets. */
  get dynamic(): boolean {
    return this.parts.certificateSecret !== null || this.parts.validationSecret !== null;
  }

  /** Whether the peer's certificate is verified (there are roots, inline or from a secret). */
  get verifies(): boolean {
    return this.parts.trustedCa !== null || this.parts.validationSecret !== null;
  }

  /** The names of the secrets it refers to. */
  secretNames(): string[] {
    return [this.parts.certificateSecret, this.parts.validationSecret].filter((n): n is string => n !== null);
  }

  /** What new connections use now, or why there is none yet. */
  resolve(): ResolvedTls | string {
    const parts = this.parts;
    const store = this.store;
    let certificate: CompiledSecret | undefined;
    let validation: CompiledSecret | undefined;
    if (parts.certificateSecret !== null) {
      certificate = store?.get(parts.certificateSecret);
      if (certificate?.certificate == null) return missing(parts.certificateSecret, certificate, 'tls_certificate');
    }
    if (parts.validationSecret !== null) {
      validation = store?.get(parts.validationSecret);
      if (validation?.validation == null) return missing(parts.validationSecret, validation, 'validation_context');
    }
    if (this.resolved !== null && certificate === this.lastCertificate && validation === this.lastValidation) return this.resolved;
    const cert = certificate?.certificate ?? parts.certificate;
    const trustedCa = validation?.validation?.trustedCa ?? parts.trustedCa;
    const options: SecureContextOptions = {
      ...(cert !== null ? { cert: cert.certificateChain, key: cert.privateKey } : {}),
      ...(trustedCa !== null ? { ca: trustedCa } : {}),
      ...(parts.minVersion !== undefined ? { minVersion: parts.minVersion } : {}),
      ...(parts.maxVersion !== undefined ? { maxVersion: parts.maxVersion } : {}),
    };
    const matchers = validation?.validation ? [...parts.sanMatchers, ...validation.validation.sanMatchers] : parts.sanMatchers;
    this.resolved = new ResolvedTls(options, matchers);
    this.lastCertificate = certificate;
    this.lastValidation = validation;
    return this.resolved;
  }
}

function missing(name: string, secret: CompiledSecret | undefined, kind: string): string {
  return secret === undefined ? `secret ${name} has not arrived` : `secret ${name} holds no ${kind}`;
}
