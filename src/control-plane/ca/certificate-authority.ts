// The mesh's certificate authority: a self-signed root kept in the store (created on first start,
// rotated on request, shared by every replica on the same store) or a plugged-in organisation CA.
// It signs workload certificates carrying SPIFFE ids and the control plane's own server certificate.
import { isIP } from 'node:net';
import { silentLogger, type Logger } from '../../common/log.ts';
import type { Store, StoreEvent } from '../store/index.ts';
import { CaError, invalidRequest } from './errors.ts';
import { checkIdentity, checkTrustDomain, spiffeId, type WorkloadIdentity } from './identity.ts';
import { checkKeyAlgorithm, generateKeyPair, signingKeyFromPem, type KeyAlgorithm } from './keys.ts';
import { joinPem } from './pem.ts';
import { loadPluggedCa, type PluggedCaFiles } from './plugged-ca.ts';
import { createRoot } from './root-certificate.ts';
import { caKind, caName, caNamespace, ensureRoots, readRoots, updateRoots, type RootsRecord, type VersionedRoots } from './root-record.ts';
import { signLeaf, type Signer } from './signer.ts';
import { x509 } from './x509.ts';

export interface CaOptions {
  /** The SPIFFE trust domain, e.g. 'cluster.local'. */
  trustDomain: string;
  /** Lifetime of a new self-signed root; default 10 years. */
  rootLifetimeMs?: number;
  /** Key type of new roots and of workload keys; default 'EC-P256'. */
  keyAlgorithm?: KeyAlgorithm;
  /**
   * Plug-in CA: PEM of the signing certificate (an intermediate under the organisation's root), its
   * key, and the chain up to the root (needed unless certPem is itself a self-signed root). The trust
   * bundle is then that root. Nothing about a plugged-in CA is written to the store.
   */
  plugged?: PluggedCaFiles;
  now?: () => number;
  logger?: Logger;
}

export interface IssuedCertificate {
  /**
   * The leaf first, then the certificates between it and the root: the signing certificate and any
   * intermediates. A self-signed root is never included (it is in the trust bundle), so a
   * certificate signed directly by our own root is sent alone, as Istio does.
   */
  certificateChainPem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** The SPIFFE id of a workload certificate; '' for a server certificate. */
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
  /** Hex, as in the certificate. */
  serialNumber: string;
}

export const defaultRootLifetimeMs = 10 * 365 * 24 * 3600_000;
export const defaultCertificateTtlMs = 24 * 3600_000;
/** Issued certificates start this far in the past, so a peer whose clock lags still accepts them. */
export const clockSkewAllowanceMs = 60_000;

interface TrustedRoot { pem: string; notAfter: Date }
interface CaState { signer: Signer; roots: TrustedRoot[]; version: number }

export class CertificateAuthority {
  readonly #store: Store;
  readonly #trustDomain: string;
  readonly #keyAlgorithm: KeyAlgorithm;
  readonly #rootLifetimeMs: number;
  readonly #plugged: boolean;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #listeners = new Set<() => void>();
  #state: CaState;
  #unwatch: (() => void) | undefined;

  private constructor(store: Store, options: Required<Omit<CaOptions, 'plugged'>> & { plugged: boolean }, state: CaState) {
    this.#store = store;
    this.#trustDomain = options.trustDomain;
    this.#keyAlgorithm = options.keyAlgorithm;
    this.#rootLifetimeMs = options.rootLifetimeMs;
    this.#plugged = options.plugged;
    this.#now = options.now;
    this.#log = options.logger;
    this.#state = state;
    this.#unwatch = undefined;
  }

  /** Loads the CA: the plugged-in one, or the stored root (creating it on the very first start). */
  static async open(store: Store, options: CaOptions): Promise<CertificateAuthority> {
    const settings = {
      trustDomain: checkTrustDomain(options.trustDomain),
      keyAlgorithm: checkKeyAlgorithm(options.keyAlgorithm ?? 'EC-P256'),
      rootLifetimeMs: options.rootLifetimeMs ?? defaultRootLifetimeMs,
      now: options.now ?? Date.now,
      logger: (options.logger ?? silentLogger).child({ component: 'ca' }),
      plugged: options.plugged !== undefined,
    };
    checkDuration('rootLifetimeMs', settings.rootLifetimeMs);
    if (options.plugged) {
      const plugged = loadPluggedCa(options.plugged, new Date(settings.now()));
      const root = new x509.X509Certificate(plugged.rootPem);
      return new CertificateAuthority(store, settings, {
        signer: plugged.signer, roots: [{ pem: plugged.rootPem, notAfter: root.notAfter }], version: 0,
      });
    }
    const newRoot = () => {
      const start = settings.now();
      return createRoot({
        trustDomain: settings.trustDomain, keyAlgorithm: settings.keyAlgorithm,
        notBefore: new Date(start - clockSkewAllowanceMs), notAfter: new Date(start + settings.rootLifetimeMs),
      });
    };
    const stored = await ensureRoots(store, newRoot);
    const ca = new CertificateAuthority(store, settings, stateFrom(stored));
    ca.#unwatch = store.watch((events) => ca.#onStoreEvents(events));
    // A rotation committed between ensureRoots() and watch() would otherwise be missed.
    ca.#reload();
    return ca;
  }

  get trustDomain(): string {
    return this.#trustDomain;
  }

  /** PEM bundle of every root currently trusted (two during a root rotation, until retireOldRoots()). */
  trustBundlePem(): string {
    const now = this.#now();
    const { roots } = this.#state;
    // A root past its expiry verifies nothing any more; the signing root is kept regardless, so the
    // bundle is never empty.
    return joinPem(roots.filter((r, i) => i === roots.length - 1 || r.notAfter.getTime() > now).map((r) => r.pem));
  }

  /** The PEM of the root that new certificates chain to. */
  signingRootPem(): string {
    const { roots } = this.#state;
    return roots[roots.length - 1].pem;
  }

  async issueWorkloadCertificate(req: { namespace: string; serviceAccount: string; ttlMs?: number }): Promise<IssuedCertificate> {
    const identity: WorkloadIdentity = checkIdentity(req);
    const id = spiffeId(this.#trustDomain, identity);
    return this.#issue([{ type: 'url', value: id }], id, req.ttlMs);
  }

  /** For the control plane's own TLS (the xDS server): DNS and IP subject alternative names. */
  async issueServerCertificate(req: { dnsNames: string[]; ipAddresses: string[]; ttlMs?: number }): Promise<IssuedCertificate> {
    const dnsNames = req.dnsNames ?? [];
    const ipAddresses = req.ipAddresses ?? [];
    if (dnsNames.length + ipAddresses.length === 0) throw invalidRequest('a server certificate needs at least one DNS name or IP address');
    for (const name of dnsNames) {
      if (typeof name !== 'string' || !/^(\*\.)?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*$/.test(name)) {
        throw invalidRequest(`dnsNames: "${String(name)}" is not a DNS name`);
      }
    }
    for (const ip of ipAddresses) {
      if (typeof ip !== 'string' || isIP(ip) === 0) throw invalidRequest(`ipAddresses: "${String(ip)}" is not an IP address`);
    }
    const names: x509.JsonGeneralNames = [
      ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ];
    return this.#issue(names, '', req.ttlMs);
  }

  async #issue(names: x509.JsonGeneralNames, id: string, ttlMs: number | undefined): Promise<IssuedCertificate> {
    const ttl = ttlMs ?? defaultCertificateTtlMs;
    checkDuration('ttlMs', ttl);
    const { signer } = this.#state; // the signer at the start, even if a rotation lands meanwhile
    const keys = await generateKeyPair(this.#keyAlgorithm);
    const start = this.#now();
    const leaf = await signLeaf(signer, {
      publicKey: keys.publicKey, subjectAltNames: names,
      notBefore: new Date(start - clockSkewAllowanceMs), notAfter: new Date(start + ttl),
    });
    return {
      certificateChainPem: leaf.certificateChainPem,
      privateKeyPem: keys.privateKeyPem,
      spiffeId: id,
      notBefore: leaf.cert.notBefore,
      notAfter: leaf.cert.notAfter,
      serialNumber: leaf.cert.serialNumber,
    };
  }

  /**
   * Starts a new root: certificates issued from now on are signed by it, and the previous root stays
   * in the trust bundle (so certificates it signed keep verifying) until retireOldRoots() or its expiry.
   */
  async rotateRoot(): Promise<void> {
    this.#refuseIfPlugged('rotateRoot');
    const start = this.#now();
    const stored = await updateRoots(this.#store, async (current) => {
      const root = await createRoot({
        trustDomain: this.#trustDomain, keyAlgorithm: this.#keyAlgorithm,
        notBefore: new Date(start - clockSkewAllowanceMs), notAfter: new Date(start + this.#rootLifetimeMs),
      });
      return { roots: [...current.roots.map((r) => ({ certPem: r.certPem })), root] };
    });
    this.#apply(stored);
    this.#log.info('started a new root', { version: stored.version, trustedRoots: stored.record.roots.length });
  }

  /** Drops every root but the signing one from the trust bundle. */
  async retireOldRoots(): Promise<void> {
    this.#refuseIfPlugged('retireOldRoots');
    const stored = await updateRoots(this.#store, async (current): Promise<RootsRecord | undefined> =>
      current.roots.length > 1 ? { roots: current.roots.slice(-1) } : undefined);
    this.#apply(stored);
  }

  /** Calls listener when the trust bundle or the signing root changes, here or on another replica. Returns unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  close(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#listeners.clear();
  }

  #refuseIfPlugged(operation: string): void {
    if (this.#plugged) {
      throw new CaError('WEFT_E_CA_UNSUPPORTED',
        `${operation} does not apply to a plugged-in CA: its root belongs to the organisation; ` +
        'rotate it there and restart the control plane with the new certificate, key and chain');
    }
  }

  #onStoreEvents(events: StoreEvent[]): void {
    if (events.some((e) => e.resource.kind === caKind && e.resource.namespace === caNamespace && e.resource.name === caName)) {
      this.#reload();
    }
  }

  #reload(): void {
    try {
      const stored = readRoots(this.#store);
      if (stored) this.#apply(stored);
      else this.#log.error(`the store's ${caKind} ${caName} was deleted; still signing with the root loaded before`);
    } catch (err) {
      this.#log.error('could not load the roots changed in the store; still signing with the root loaded before', { error: String(err) });
    }
  }

  /** Adopts stored roots newer than the ones in use, and tells listeners. */
  #apply(stored: VersionedRoots): void {
    if (stored.version <= this.#state.version) return;
    this.#state = stateFrom(stored);
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (err) {
        this.#log.error('a CA change listener failed', { error: String(err) });
      }
    }
  }
}

function stateFrom(stored: VersionedRoots): CaState {
  const { roots } = stored.record;
  const signing = roots[roots.length - 1];
  const cert = new x509.X509Certificate(signing.certPem);
  return {
    signer: {
      cert,
      certPem: signing.certPem,
      signingKey: signingKeyFromPem(signing.keyPem as string, `${caKind} ${caName} root key`),
      chainPems: [],
    },
    roots: roots.map((r) => ({ pem: r.certPem, notAfter: new x509.X509Certificate(r.certPem).notAfter })),
    version: stored.version,
  };
}

function checkDuration(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalidRequest(`${field} must be a positive whole number of milliseconds, got ${String(value)}`);
  }
}
