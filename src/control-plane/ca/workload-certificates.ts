// One current workload certificate per identity, renewed before it expires. A certificate is
// renewed at about half its life, with a little jitter so that the identities issued together after
// a start or a root rotation do not all come due at the same moment.
import { silentLogger, type Logger } from '../../common/log.ts';
import type { CertificateAuthority, IssuedCertificate } from './certificate-authority.ts';
import { checkIdentity, type WorkloadIdentity } from './identity.ts';

/** How much of a certificate's life may pass before it is renewed: between 40% and 50%. */
const renewAtLifeFraction = 0.5;
const renewJitterFraction = 0.1;
/** setTimeout's longest delay; a longer wait is done in several hops. */
const maxTimerDelayMs = 2 ** 31 - 1;
/** After a failed renewal, try again this much later (or sooner, if the certificate expires before). */
const retryDelayMs = 10_000;

interface Entry {
  identity: WorkloadIdentity;
  cert: IssuedCertificate | undefined;
  renewAt: number;
  /** The issuance under way, if any; concurrent callers share it. */
  pending: Promise<IssuedCertificate> | undefined;
  timer: NodeJS.Timeout | undefined;
}

export interface WorkloadCertificatesOptions {
  /** Lifetime of the certificates; default the CA's (24 hours). */
  ttlMs?: number;
  /** Called when an identity's certificate was replaced (not on its first issuance). */
  onRotated: (identity: WorkloadIdentity) => void;
  now?: () => number;
  logger?: Logger;
}

export class WorkloadCertificates {
  readonly #ca: CertificateAuthority;
  readonly #ttlMs: number | undefined;
  readonly #onRotated: (identity: WorkloadIdentity) => void;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(ca: CertificateAuthority, options: WorkloadCertificatesOptions) {
    this.#ca = ca;
    this.#ttlMs = options.ttlMs;
    this.#onRotated = options.onRotated;
    this.#now = options.now ?? Date.now;
    this.#log = (options.logger ?? silentLogger).child({ component: 'workload-certificates' });
  }

  /** The identity's current certificate; issued on first use, renewed if it is due. */
  current(identity: WorkloadIdentity): Promise<IssuedCertificate> {
    const checked = checkIdentity(identity);
    const key = identityKey(checked);
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { identity: checked, cert: undefined, renewAt: 0, pending: undefined, timer: undefined };
      this.#entries.set(key, entry);
    }
    if (entry.cert && this.#now() < entry.renewAt) return Promise.resolve(entry.cert);
    return entry.pending ?? this.#renew(entry);
  }

  /** The identity's certificate issued so far, without starting an issuance; undefined before the first. */
  issued(identity: WorkloadIdentity): IssuedCertificate | undefined {
    return this.#entries.get(identityKey(identity))?.cert;
  }

  /** Forgets every identity not listed (no proxy uses it any more), with its timer. */
  retain(identities: Iterable<WorkloadIdentity>): void {
    const keep = new Set<string>();
    for (const identity of identities) keep.add(identityKey(identity));
    for (const [key, entry] of this.#entries) {
      if (keep.has(key)) continue;
      clearTimeout(entry.timer);
      this.#entries.delete(key);
    }
  }

  /** Re-issues every certificate now, e.g. so that all chain to a new root after a rotation. */
  async reissueAll(): Promise<void> {
    await Promise.all([...this.#entries.values()].map(async (entry) => {
      // An issuance already under way may have started with the previous root: wait, then issue again.
      await entry.pending?.catch(() => {});
      if (this.#entries.get(identityKey(entry.identity)) === entry) await this.#renew(entry);
    }));
  }

  /**
   * Renews every certificate whose renewal time has come by this object's clock. The timers call
   * this; a caller with an injected clock may call it after moving the clock.
   */
  async renewDue(): Promise<void> {
    const now = this.#now();
    await Promise.all([...this.#entries.values()]
      .filter((e) => e.cert && !e.pending && now >= e.renewAt)
      .map((e) => this.#renew(e).catch(() => {})));
  }

  close(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #renew(entry: Entry): Promise<IssuedCertificate> {
    const issuing = this.#ca.issueWorkloadCertificate({ ...entry.identity, ttlMs: this.#ttlMs });
    entry.pending = issuing;
    issuing.then((cert) => {
      if (entry.pending === issuing) entry.pending = undefined;
      if (this.#closed || this.#entries.get(identityKey(entry.identity)) !== entry) return;
      const replaced = entry.cert !== undefined;
      const issuedAt = this.#now();
      const life = cert.notAfter.getTime() - issuedAt;
      entry.cert = cert;
      entry.renewAt = issuedAt + life * (renewAtLifeFraction - Math.random() * renewJitterFraction);
      this.#schedule(entry, entry.renewAt - issuedAt);
      if (replaced) this.#notify(entry.identity);
    }, (err: unknown) => {
      if (entry.pending === issuing) entry.pending = undefined;
      if (this.#closed || !entry.cert) return; // the caller of current() sees the error
      this.#log.error('could not renew a workload certificate; keeping the current one and trying again',
        { namespace: entry.identity.namespace, serviceAccount: entry.identity.serviceAccount, error: String(err) });
      const untilExpiry = entry.cert.notAfter.getTime() - this.#now();
      this.#schedule(entry, Math.max(0, Math.min(retryDelayMs, untilExpiry / 2)));
    });
    return issuing;
  }

  #schedule(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.#closed || entry.pending) return;
      if (this.#now() >= entry.renewAt || !entry.cert) this.#renew(entry).catch(() => {});
      else this.#schedule(entry, entry.renewAt - this.#now()); // a long wait, done in hops
    }, Math.min(Math.max(0, delayMs), maxTimerDelayMs));
    entry.timer.unref();
  }

  #notify(identity: WorkloadIdentity): void {
    try {
      this.#onRotated(identity);
    } catch (err) {
      this.#log.error('a certificate rotation listener failed', { error: String(err) });
    }
  }
}

function identityKey(identity: WorkloadIdentity): string {
  return `${identity.namespace}/${identity.serviceAccount}`;
}
