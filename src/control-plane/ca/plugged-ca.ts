// A plugged-in CA: the organisation's own intermediate (with its key) signs workload certificates,
// and the organisation's root is the trust bundle. Everything is checked up front so that a wrong
// file is reported when the control plane starts, not as failed handshakes later.
import { X509Certificate } from 'node:crypto';
import { pluggedCaError } from './errors.ts';
import { signingKeyFromPem } from './keys.ts';
import { describeCertificate, isSelfSigned, joinPem, splitCertificates } from './pem.ts';
import type { Signer } from './signer.ts';
import { x509 } from './x509.ts';

export interface PluggedCaFiles { certPem: string; keyPem: string; chainPem?: string }

export interface PluggedCa { signer: Signer; rootPem: string }

function parse(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw pluggedCaError(`${what} is not a readable PEM certificate: ${(err as Error).message}`, err);
  }
}

export function loadPluggedCa(files: PluggedCaFiles, now: Date): PluggedCa {
  if (files === null || typeof files !== 'object' || typeof files.certPem !== 'string' || typeof files.keyPem !== 'string') {
    throw pluggedCaError('certPem and keyPem are required strings');
  }
  const certBlocks = splitCertificates(files.certPem);
  if (certBlocks.length === 0) throw pluggedCaError('certPem holds no PEM certificate');
  const cert = parse(certBlocks[0], 'certPem');
  const name = describeCertificate(cert);

  if (!cert.ca) throw pluggedCaError(`certPem ${name} is not a CA certificate (its basic constraints do not say CA:true)`);
  const usage = new x509.X509Certificate(certBlocks[0]).getExtension(x509.KeyUsagesExtension);
  if (usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign)) {
    throw pluggedCaError(`certPem ${name} may not sign certificates (its key usage lacks keyCertSign)`);
  }
  if (new Date(cert.validFrom) > now || new Date(cert.validTo) <= now) {
    throw pluggedCaError(`certPem ${name} is not valid now (valid from ${cert.validFrom} to ${cert.validTo})`);
  }
  let signingKey;
  try {
    signingKey = signingKeyFromPem(files.keyPem, 'keyPem');
  } catch (err) {
    throw pluggedCaError((err as Error).message, err);
  }
  if (!cert.checkPrivateKey(signingKey.keyObject)) throw pluggedCaError(`keyPem is not the private key of certPem ${name}`);

  // The chain above the signing certificate: further blocks of certPem, then chainPem. A chainPem
  // that starts with the signing certificate itself (as Istio's cert-chain.pem does) is accepted.
  const above = [...certBlocks.slice(1), ...splitCertificates(files.chainPem ?? '')]
    .map((pem, i) => ({ pem, cert: parse(pem, `chain certificate ${i + 1}`) }));
  if (above.length > 0 && above[0].cert.fingerprint256 === cert.fingerprint256) above.shift();

  let child = { pem: certBlocks[0], cert };
  for (const parent of above) {
    if (!child.cert.checkIssued(parent.cert) || !child.cert.verify(parent.cert.publicKey)) {
      throw pluggedCaError(`chainPem is not in order from certPem up to the root: ${describeCertificate(parent.cert)} ` +
        `did not issue ${describeCertificate(child.cert)}`);
    }
    child = parent;
  }
  if (!isSelfSigned(child.cert)) {
    throw pluggedCaError(above.length === 0
      ? `certPem ${name} is not a self-signed root, so chainPem must hold the chain up to the organisation's root`
      : `chainPem ends at ${describeCertificate(child.cert)}, which is not a self-signed root; add the certificates up to the root`);
  }
  const sentAfterLeaf = [certBlocks[0], ...above.map((c) => c.pem)].filter((pem) => pem !== child.pem);
  return {
    signer: {
      cert: new x509.X509Certificate(certBlocks[0]),
      certPem: joinPem([certBlocks[0]]),
      signingKey,
      chainPems: sentAfterLeaf.map((pem) => pem.trim()),
    },
    rootPem: joinPem([child.pem]),
  };
}
