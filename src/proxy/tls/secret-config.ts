// envoy.extensions.transport_sockets.tls.v3.Secret (SDS) → CompiledSecret. A secret holds either a
// tls_certificate (certificate_chain + private_key: Istio's `default`) or a validation_context
// (trusted_ca, possibly several roots concatenated during a root rotation: Istio's `ROOTCA`). The PEM
// is parsed here, when the secret arrives, so that a malformed secret is rejected (NACK) naming the
// secret and the field, and the one in force stays; connections never see a secret that cannot load.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { FieldPath, canonicalJson, checkFields, isPresent, message, requiredString } from '../upstream/envoy-config.ts';
import { certificateFields, checkTlsFields, rejectedCertificateFields } from './common-tls-context.ts';
import { compileDataSource } from './data-source.ts';
import { compileTypedSanMatchers, compileUntypedSanMatchers, type SanMatcher } from './san-matcher.ts';

export type CertificateSecret = { certificateChain: Buffer; privateKey: Buffer; serialNumber: string };
export type ValidationSecret = { trustedCa: Buffer; sanMatchers: SanMatcher[] };

export type CompiledSecret = {
  name: string;
  /** Set for a tls_certificate secret. */
  certificate: CertificateSecret | null;
  /** Set for a validation_context secret. */
  validation: ValidationSecret | null;
  /** The resource as canonical text: an unchanged secret keeps its compiled form (no context rebuild). */
  fingerprint: string;
};

const secretFields = new Set(['name', 'tls_certificate', 'validation_context']);
const rejectedSecretFields: Record<string, string> = {
  session_ticket_keys: 'is not supported (session ticket keys)',
  generic_secret: 'is not supported (generic secrets)',
};
const validationFields = new Set(['trusted_ca', 'match_typed_subject_alt_names', 'match_subject_alt_names']);

const pemCertificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function compileSecret(value: unknown): CompiledSecret {
  const probe = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).name : undefined;
  const root = new FieldPath(`Secret ${typeof probe === 'string' && probe !== '' ? probe : '(unnamed)'}`);
  const s = message(root, value);
  const name = requiredString(root.field('name'), s.name);
  checkTlsFields(root, s, secretFields, rejectedSecretFields);
  const hasCertificate = isPresent(s.tls_certificate);
  const hasValidation = isPresent(s.validation_context);
  if (hasCertificate === hasValidation) {
    root.reject(hasCertificate ? 'sets both tls_certificate and validation_context; a secret holds one' : 'must set tls_certificate or validation_context');
  }
  return {
    name,
    certificate: hasCertificate ? compileCertificate(root.field('tls_certificate'), s.tls_certificate) : null,
    validation: hasValidation ? compileValidation(root.field('validation_context'), s.validation_context) : null,
    fingerprint: canonicalJson(s),
  };
}

function compileCertificate(at: FieldPath, value: unknown): CertificateSecret {
  const c = message(at, value);
  checkTlsFields(at, c, certificateFields, rejectedCertificateFields);
  if (!isPresent(c.certificate_chain)) at.field('certificate_chain').reject('is required');
  if (!isPresent(c.private_key)) at.field('private_key').reject('is required');
  const certificateChain = compileDataSource(at.field('certificate_chain'), c.certificate_chain);
  const privateKey = compileDataSource(at.field('private_key'), c.private_key);
  const chain = parseCertificates(at.field('certificate_chain'), certificateChain);
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKey);
  } catch (err) {
    // The reason from the parser, never the key itself.
    throw at.field('private_key').error(`is not a PEM private key (${(err as Error).message})`);
  }
  if (!chain[0].checkPrivateKey(key)) at.field('private_key').reject('does not match the first certificate of certificate_chain');
  return { certificateChain, privateKey, serialNumber: chain[0].serialNumber };
}

function compileValidation(at: FieldPath, value: unknown): ValidationSecret {
  const v = message(at, value);
  checkFields(at, v, validationFields);
  if (!isPresent(v.trusted_ca)) at.field('trusted_ca').reject('is required (the roots that verify peer certificates)');
  const trustedCa = compileDataSource(at.field('trusted_ca'), v.trusted_ca);
  parseCertificates(at.field('trusted_ca'), trustedCa);
  const sanMatchers = [
    ...compileTypedSanMatchers(at.field('match_typed_subject_alt_names'), v.match_typed_subject_alt_names),
    ...compileUntypedSanMatchers(at.field('match_subject_alt_names'), v.match_subject_alt_names),
  ];
  return { trustedCa, sanMatchers };
}

/** Every PEM certificate of a bundle, parsed (at least one). */
function parseCertificates(at: FieldPath, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(pemCertificate) ?? [];
  if (blocks.length === 0) at.reject('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw at.error(`certificate ${i + 1} of ${blocks.length} cannot be parsed (${(err as Error).message})`);
    }
  });
}
