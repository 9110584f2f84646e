// PEM helpers for certificate bundles.
import { X509Certificate } from 'node:crypto';

const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate block of a PEM bundle, in order; text around the blocks is ignored. */
export function splitCertificates(pem: string): string[] {
  return pem.match(certificateBlock) ?? [];
}

export function joinPem(blocks: readonly string[]): string {
  return blocks.map((b) => b.trim() + '\n').join('');
}

export function describeCertificate(cert: X509Certificate): string {
  return `"${cert.subject.replaceAll('\n', ', ') || '(empty subject)'}" (serial ${cert.serialNumber})`;
}

export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}
