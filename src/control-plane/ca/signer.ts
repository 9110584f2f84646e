// A signer: the CA certificate and key that sign leaf certificates, plus what goes after the leaf in
// an issued chain.
import { invalidRequest } from './errors.ts';
import { randomSerialNumber, type CryptoKey, type SigningKey } from './keys.ts';
import { x509 } from './x509.ts';

export interface Signer {
  cert: x509.X509Certificate;
  certPem: string;
  signingKey: SigningKey;
  /**
   * Certificates sent after the leaf: the signing certificate and the intermediates above it, but
   * never a self-signed root (peers have the roots in their trust bundle; as Istio does when its CA
   * is self-signed, a chain issued by our own root is the leaf alone).
   */
  chainPems: string[];
}

export interface LeafRequest {
  publicKey: CryptoKey;
  subjectAltNames: x509.JsonGeneralNames;
  notBefore: Date;
  notAfter: Date;
}

export interface Leaf { cert: x509.X509Certificate; certificateChainPem: string }

/**
 * Signs a leaf certificate: empty subject (the identity is in the subject alternative names, which
 * are then critical as RFC 5280 4.2.1.6 requires), not a CA, usable for TLS client and server. The
 * validity is capped at the signer's: a peer would reject a leaf that outlives its issuer.
 */
export async function signLeaf(signer: Signer, request: LeafRequest): Promise<Leaf> {
  if (request.subjectAltNames.length === 0) throw invalidRequest('a certificate needs at least one subject alternative name');
  const notAfter = request.notAfter > signer.cert.notAfter ? signer.cert.notAfter : request.notAfter;
  if (notAfter <= request.notBefore) throw invalidRequest('the signing certificate has expired; no certificate can be issued');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: [],
    issuer: signer.cert.subjectName,
    notBefore: request.notBefore,
    notAfter,
    publicKey: request.publicKey,
    signingKey: signer.signingKey.key,
    signingAlgorithm: signer.signingKey.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(request.subjectAltNames, true),
      await authorityKeyIdentifier(signer.cert),
    ],
  });
  return { cert, certificateChainPem: [cert.toString('pem'), ...signer.chainPems].join('\n') + '\n' };
}

/**
 * Points the leaf at its issuer's key. Needed for chain building once two roots with the same
 * subject (O=<trust domain>) are trusted at once during a root rotation.
 */
async function authorityKeyIdentifier(issuer: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
  return x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey);
}
