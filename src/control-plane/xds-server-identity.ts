// The xDS server's TLS identity as a grpc-js certificate provider: a certificate of the mesh CA for
// the names proxies dial, re-issued at about half its life and whenever the CA's signing root or trust
// bundle changes (a root rotation), so the server never presents a certificate that proxies holding
// only the new root would refuse. New connections get the new certificate; open streams keep theirs.
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/log.ts';
import type { CertificateAuthority } from './ca/index.ts';

type CertificateProvider = grpc.experimental.CertificateProvider;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;
type CaListener = grpc.experimental.CaCertificateUpdateListener;

const defaultTtlMs = 24 * 3600_000;

export class XdsServerIdentity implements CertificateProvider {
  private readonly ca: CertificateAuthority;
  private readonly dnsNames: string[];
  private readonly ipAddresses: string[];
  private readonly ttlMs: number;
  private readonly log: Logger;
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();
  private identity: grpc.experimental.IdentityCertificateUpdate | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly unwatch: () => void;

  private constructor(ca: CertificateAuthority, names: string[], log: Logger, ttlMs: number) {
    this.ca = ca;
    this.dnsNames = names.filter((n) => isIP(n) === 0);
    this.ipAddresses = names.filter((n) => isIP(n) !== 0);
    this.ttlMs = ttlMs;
    this.log = log;
    this.unwatch = ca.onChange(() => {
      for (const l of this.caListeners) l({ caCertificate: Buffer.from(ca.trustBundlePem()) });
      void this.renew('the certificate authority changed');
    });
  }

  /** `host`: the --xds-address host; `extra`: --xds-san names. localhost, 127.0.0.1 and ::1 are always in. */
  static async start(ca: CertificateAuthority, host: string, extra: string[], log: Logger, ttlMs = defaultTtlMs): Promise<XdsServerIdentity> {
    const names = [...new Set(['localhost', '127.0.0.1', '::1', ...(host !== '' && host !== '0.0.0.0' && host !== '::' ? [host] : []), ...extra])];
    const identity = new XdsServerIdentity(ca, names, log, ttlMs);
    await identity.renew();
    return identity;
  }

  credentials(): grpc.ServerCredentials {
    return grpc.experimental.createCertificateProviderServerCredentials(this, this, false);
  }

  close(): void {
    this.unwatch();
    if (this.timer) clearTimeout(this.timer);
  }

  // The current value is delivered on the next tick: grpc-js adds its own watcher only after it has
  // added these listeners, and would miss an update delivered at once.
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => {
      if (this.caListeners.has(listener)) listener({ caCertificate: Buffer.from(this.ca.trustBundlePem()) });
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.identity && this.identityListeners.has(listener)) listener(this.identity);
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  private async renew(why?: string): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    try {
      const cert = await this.ca.issueServerCertificate({ dnsNames: this.dnsNames, ipAddresses: this.ipAddresses, ttlMs: this.ttlMs });
      this.identity = { certificate: Buffer.from(cert.certificateChainPem), privateKey: Buffer.from(cert.privateKeyPem) };
      for (const l of this.identityListeners) l(this.identity);
      if (why) this.log.info('xDS server certificate renewed', { reason: why, notAfter: cert.notAfter.toISOString() });
      const life = cert.notAfter.getTime() - Date.now();
      this.timer = setTimeout(() => void this.renew('half of its life passed'), Math.max(1000, life / 2));
    } catch (err) {
      this.log.error('cannot issue the xDS server certificate; retrying', { error: String(err) });
      this.timer = setTimeout(() => void this.renew(why), 10_000);
    }
    this.timer.unref();
  }
}
