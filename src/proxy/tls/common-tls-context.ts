// envoy.extensions.transport_sockets.tls.v3.CommonTlsContext, the part both sides share: the local
// certificate chain and key (tls_certificates), the ALPN list, the validation context (trusted_ca and
// SAN matchers) and tls_params (protocol versions). The certificate and the roots may instead be SDS
// secrets delivered over ADS (tls_certificate_sds_secret_configs; validation_context_sds_secret_config,
// alone or in a combined_validation_context whose default_validation_context adds SAN matchers): they
// are kept as names here and resolved per connection by tls-context-source.ts. What cannot be honoured
// rejects the resource: certificate providers, custom handshakers, key logging, OCSP staples, private
// key providers, CRLs, SPKI/hash pinning and custom validators (SPIFFE identities are checked with URI
// SAN matchers instead).
import type { SecureVersion } from 'node:tls';
import { FieldPath, checkFields, isPresent, message, optionalMessage, repeated, string, type Message } from '../upstream/envoy-config.ts';
import { compileDataSource } from './data-source.ts';
import { compileSdsSecretConfig } from './sds-config.ts';
import { compileTypedSanMatchers, compileUntypedSanMatchers, type SanMatcher } from './san-matcher.ts';

export type TlsCertificateSpec = { certificateChain: Buffer; privateKey: Buffer };

export type ValidationSpec = {
  /** PEM bundle of trusted CAs given inline; null: none inline. */
  trustedCa: Buffer | null;
  /** The SDS secret holding the trusted CAs (validation_context_sds_secret_config); null: none. */
  secretName: string | null;
  sanMatchers: SanMatcher[];
};

export type CommonTlsSpec = {
  certificates: TlsCertificateSpec[];
  /** tls_certificate_sds_secret_configs: the SDS secrets holding the certificate and key. */
  certificateSecrets: string[];
  alpn: string[];
  validation: ValidationSpec;
  minVersion: SecureVersion | undefined;
  maxVersion: SecureVersion | undefined;
};

const commonFields = new Set([
  'tls_certificates', 'alpn_protocols', 'validation_context', 'tls_params', 'tls_certificate_sds_secret_configs',
  'validation_context_sds_secret_config', 'combined_validation_context',
]);
const validationTypes = ['validation_context', 'validation_context_sds_secret_config', 'combined_validation_context'];
const combinedFields = new Set(['default_validation_context', 'validation_context_sds_secret_config']);
const rejectedCombinedFields: Record<string, string> = {
  validation_context_certificate_provider: 'is not supported (certificate providers)',
  validation_context_certificate_provider_instance: 'is not supported (certificate providers)',
};
const rejectedCommonFields: Record<string, string> = {
  tls_certificate_provider_instance: 'is not supported (certificate providers)',
  tls_certificate_certificate_provider: 'is not supported (certificate providers)',
  tls_certificate_certificate_provider_instance: 'is not supported (certificate providers)',
  validation_context_certificate_provider: 'is not supported (certificate providers)',
  validation_context_certificate_provider_instance: 'is not supported (certificate providers)',
  custom_handshaker: 'is not supported (custom handshakers)',
  key_log: 'is not supported (TLS key logging)',
  custom_tls_certificate_selector: 'is not supported',
};
/** A TlsCertificate's fields (inline or in an SDS Secret) and those refused, with the reason. */
export const certificateFields: ReadonlySet<string> = new Set(['certificate_chain', 'private_key']);
export const rejectedCertificateFields: Record<string, string> = {
  ocsp_staple: 'is not supported (OCSP stapling)',
  private_key_provider: 'is not supported (private key providers)',
  password: 'is not supported (encrypted private keys)',
  pkcs12: 'is not supported (give certificate_chain and private_key as PEM)',
  watched_directory: 'is not supported (certificates are rotated by pushing a new SDS Secret)',
  signed_certificate_timestamp: 'is not supported',
};
const validationFields = new Set(['trusted_ca', 'match_typed_subject_alt_names', 'match_subject_alt_names', 'trust_chain_verification']);
const rejectedValidationFields: Record<string, string> = {
  crl: 'is not supported (certificate revocation lists)',
  only_verify_leaf_cert_crl: 'is not supported (certificate revocation lists)',
  custom_validator_config: 'is not supported (custom certificate validators such as the SPIFFE validator)',
  verify_certificate_spki: 'is not supported (SPKI pinning)',
  verify_certificate_hash: 'is not supported (certificate hash pinning)',
  watched_directory: 'is not supported (certificates are rotated by pushing a new SDS Secret)',
  allow_expired_certificate: 'is not supported (expired certificates are always refused)',
  max_verify_depth: 'is not supported',
  system_root_certs: 'is not supported (trusted_ca is required to verify)',
  ca_certificate_provider_instance: 'is not supported (certificate providers)',
};
const tlsParamsFields = new Set(['tls_minimum_protocol_version', 'tls_maximum_protocol_version']);
const versions: Record<string, SecureVersion | undefined> = {
  TLS_AUTO: undefined, TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3',
};
const versionNames = ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'];

/** Rejects, with its reason, any present field listed in `rejected`; then any other field not in `supported`. */
export function checkTlsFields(at: FieldPath, m: Message, supported: ReadonlySet<string>, rejected: Record<string, string>): void {
  for (const [field, reason] of Object.entries(rejected)) {
    if (isPresent(m[field]) && !(Array.isArray(m[field]) && m[field].length === 0)) at.field(field).reject(reason);
  }
  checkFields(at, m, supported);
}

export function compileCommonTlsContext(at: FieldPath, value: unknown): CommonTlsSpec {
  const c = optionalMessage(at, value) ?? {};
  checkTlsFields(at, c, commonFields, rejectedCommonFields);
  const certificates = repeated(at.field('tls_certificates'), c.tls_certificates).map((v, i) => {
    const cp = at.field('tls_certificates').item(i);
    const cert = message(cp, v);
    checkTlsFields(cp, cert, certificateFields, rejectedCertificateFields);
    if (!isPresent(cert.certificate_chain)) cp.field('certificate_chain').reject('is required');
    if (!isPresent(cert.private_key)) cp.field('private_key').reject('is required');
    return {
      certificateChain: compileDataSource(cp.field('certificate_chain'), cert.certificate_chain),
      privateKey: compileDataSource(cp.field('private_key'), cert.private_key),
    };
  });
  const certificateSecrets = repeated(at.field('tls_certificate_sds_secret_configs'), c.tls_certificate_sds_secret_configs)
    .map((v, i) => compileSdsSecretConfig(at.field('tls_certificate_sds_secret_configs').item(i), v));
  if (certificates.length > 0 && certificateSecrets.length > 0) {
    at.field('tls_certificate_sds_secret_configs').reject('is set together with tls_certificates; give the certificate one way');
  }
  const alpn = repeated(at.field('alpn_protocols'), c.alpn_protocols).map((v, i) => {
    const p = string(at.field('alpn_protocols').item(i), v) ?? '';
    if (p === '' || p.length > 255) at.field('alpn_protocols').item(i).reject('must be 1 to 255 characters');
    return p;
  });
  const params = optionalMessage(at.field('tls_params'), c.tls_params);
  let minVersion: SecureVersion | undefined;
  let maxVersion: SecureVersion | undefined;
  if (params) {
    const pp = at.field('tls_params');
    if (isPresent(params.cipher_suites) && (params.cipher_suites as unknown[]).length > 0) pp.field('cipher_suites').reject('is not supported (the default cipher suites are used)');
    if (isPresent(params.ecdh_curves) && (params.ecdh_curves as unknown[]).length > 0) pp.field('ecdh_curves').reject('is not supported');
    if (isPresent(params.signature_algorithms) && (params.signature_algorithms as unknown[]).length > 0) pp.field('signature_algorithms').reject('is not supported');
    checkFields(pp, params, tlsParamsFields);
    minVersion = protocolVersion(pp.field('tls_minimum_protocol_version'), params.tls_minimum_protocol_version);
    maxVersion = protocolVersion(pp.field('tls_maximum_protocol_version'), params.tls_maximum_protocol_version);
    if (minVersion !== undefined && maxVersion !== undefined && minVersion > maxVersion) {
      pp.reject(`tls_minimum_protocol_version ${minVersion} is above tls_maximum_protocol_version ${maxVersion}`);
    }
  }
  return { certificates, certificateSecrets, alpn, validation: compileValidationType(at, c), minVersion, maxVersion };
}

/** The validation_context_type oneof: inline, an SDS secret, or both combined. */
function compileValidationType(at: FieldPath, c: Message): ValidationSpec {
  const set = validationTypes.filter((f) => isPresent(c[f]));
  if (set.length > 1) at.reject(`sets ${set.join(' and ')}; at most one is allowed`);
  if (isPresent(c.validation_context_sds_secret_config)) {
    const secretName = compileSdsSecretConfig(at.field('validation_context_sds_secret_config'), c.validation_context_sds_secret_config);
    return { trustedCa: null, secretName, sanMatchers: [] };
  }
  if (isPresent(c.combined_validation_context)) {
    const cp = at.field('combined_validation_context');
    const combined = message(cp, c.combined_validation_context);
    checkTlsFields(cp, combined, combinedFields, rejectedCombinedFields);
    if (!isPresent(combined.default_validation_context)) cp.field('default_validation_context').reject('is required');
    if (!isPresent(combined.validation_context_sds_secret_config)) cp.field('validation_context_sds_secret_config').reject('is required');
    const secretName = compileSdsSecretConfig(cp.field('validation_context_sds_secret_config'), combined.validation_context_sds_secret_config);
    const defaults = compileValidation(cp.field('default_validation_context'), combined.default_validation_context, true);
    return { ...defaults, secretName };
  }
  return compileValidation(at.field('validation_context'), c.validation_context, false);
}

function protocolVersion(at: FieldPath, value: unknown): SecureVersion | undefined {
  if (!isPresent(value)) return undefined;
  const name = typeof value === 'number' ? versionNames[value] : value;
  if (typeof name !== 'string' || !(name in versions)) at.reject(`${String(value)} is not a TLS protocol version`);
  return versions[name];
}

/** An inline CertificateValidationContext; `withSecret`: the roots may come from an SDS secret instead. */
function compileValidation(at: FieldPath, value: unknown, withSecret: boolean): ValidationSpec {
  const v = optionalMessage(at, value);
  if (!v) return { trustedCa: null, secretName: null, sanMatchers: [] };
  checkTlsFields(at, v, validationFields, rejectedValidationFields);
  if (isPresent(v.trust_chain_verification) && v.trust_chain_verification !== 'VERIFY_TRUST_CHAIN' && v.trust_chain_verification !== 0) {
    at.field('trust_chain_verification').reject(`${String(v.trust_chain_verification)} is not supported (only VERIFY_TRUST_CHAIN)`);
  }
  const trustedCa = isPresent(v.trusted_ca) ? compileDataSource(at.field('trusted_ca'), v.trusted_ca) : null;
  const sanMatchers = [
    ...compileTypedSanMatchers(at.field('match_typed_subject_alt_names'), v.match_typed_subject_alt_names),
    ...compileUntypedSanMatchers(at.field('match_subject_alt_names'), v.match_subject_alt_names),
  ];
  if (sanMatchers.length > 0 && trustedCa === null && !withSecret) {
    at.reject('matches subject alt names without trusted_ca: the peer certificate would not be verified (as Envoy, this is refused)');
  }
  return { trustedCa, secretName: null, sanMatchers };
}
