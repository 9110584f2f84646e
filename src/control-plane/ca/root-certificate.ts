// The self-signed root of a trust domain, shaped as Istio's self-signed CA makes it: subject
// O=<trust domain>, a critical CA:true basic constraint, key usage keyCertSign + cRLSign.
import { generateKeyPair, randomSerialNumber, signingAlgorithmFor, type KeyAlgorithm } from './keys.ts';
import { x509 } from './x509.ts';

export interface NewRoot { certPem: string; keyPem: string }

export async function createRoot(options: {
  trustDomain: string; keyAlgorithm: KeyAlgorithm; notBefore: Date; notAfter: Date;
}): Promise<NewRoot> {
  const keys = await generateKeyPair(options.keyAlgorithm);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ O: [options.trustDomain] }],
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    signingAlgorithm: signingAlgorithmFor(options.keyAlgorithm),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: keys.privateKeyPem };
}
