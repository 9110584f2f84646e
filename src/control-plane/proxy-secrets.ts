// The SDS material each connected proxy gets: its workload certificate (issued by the certificate
// authority for the proxy's identity, re-issued at about half its life) and the mesh's trust bundle.
// Generation is synchronous and pure, issuance is not: material() answers from what WorkloadCertificates
// has issued and starts an issuance when nothing is there yet; `changed` is called when new material is
// ready (a first certificate, or a rotated one), so the controller pushes again.
import type { Logger } from '../common/log.ts';
import type { CertificateAuthority, IssuedCertificate, WorkloadCertificates } from './ca/index.ts';
import type { WorkloadSecretMaterial } from './generate/index.ts';
import { recordCertificateFailed, recordCertificateIssued, recordCertificateRequested, trackRootCertificate } from './metrics/index.ts';

export interface Identity { namespace: string; serviceAccount: string }

const keyOf = (id: Identity) => `${id.namespace}/${id.serviceAccount}`;

export class ProxySecrets {
  private readonly ca: CertificateAuthority;
  private readonly certificates: WorkloadCertificates;
  private readonly log: Logger;
  private readonly pending = new Set<string>();
  changed: () => void = () => {};

  constructor(ca: CertificateAuthority, certificates: WorkloadCertificates, log: Logger) {
    this.ca = ca;
    this.certificates = certificates;
    this.log = log;
    trackRootCertificate(() => ca.signingRootPem());
  }

  /** The current material for an identity, or undefined while its first certificate is being issued. */
  material(identity: Identity): WorkloadSecretMaterial | undefined {
    const cert = this.certificates.issued(identity);
    if (cert === undefined) {
      this.refresh(identity);
      return undefined;
    }
    return { certificateChainPem: cert.certificateChainPem, privateKeyPem: cert.privateKeyPem, trustBundlePem: this.ca.trustBundlePem() };
  }

  /** Fetches the identity's current certificate (after a rotation, a new one) and reports the change. */
  refresh(identity: Identity): void {
    const key = keyOf(identity);
    if (this.pending.has(key)) return;
    this.pending.add(key);
    recordCertificateRequested();
    this.certificates.current(identity).then((cert: IssuedCertificate) => {
      this.pending.delete(key);
      recordCertificateIssued();
      this.log.info('workload certificate ready', { identity: cert.spiffeId, serial: cert.serialNumber, notAfter: cert.notAfter.toISOString() });
      this.changed();
    }, (err: unknown) => {
      this.pending.delete(key);
      recordCertificateFailed();
      this.log.error('workload certificate not issued', { identity: key, error: String(err) });
    });
  }

  /** Keeps only the identities still in use. */
  retain(identities: Identity[]): void {
    this.certificates.retain(identities);
  }
}
