// Certificate issuance, as Istio's CA server counts it (security/pkg/server/ca/monitoring.go):
// signing requests, successful issuances, failures, and when the root expires.
import { X509Certificate } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import { controlPlaneRegistry } from './registry.ts';

const registers = [controlPlaneRegistry];

const csrCount = new Counter({ name: 'citadel_server_csr_count', help: 'The number of CSRs received by Citadel server.', registers });
const successCount = new Counter({
  name: 'citadel_server_success_cert_issuance_count', help: 'The number of certificates issuances that have succeeded.', registers,
});
const signErrorCount = new Counter({
  name: 'citadel_server_csr_sign_err_count', help: 'The number of errors occurred when signing the CSR.', registers,
});

/** Reads the signing root when scraped, so a rotation shows without anyone telling the metric. */
let rootPem: (() => string) | undefined;

function rootExpiry(): number | undefined {
  const pem = rootPem?.();
  if (!pem) return undefined;
  try {
    return new X509Certificate(pem).validToDate.getTime() / 1000;
  } catch {
    return undefined;
  }
}

new Gauge({
  name: 'citadel_server_root_cert_expiry_timestamp', help: 'The unix timestamp, in seconds, when the root cert will expire.', registers,
  collect() { const at = rootExpiry(); if (at !== undefined) this.set(at); },
});
new Gauge({
  name: 'citadel_server_root_cert_expiry_seconds',
  help: 'The time remaining, in seconds, before the root cert will expire. A negative value indicates the cert is expired.', registers,
  collect() { const at = rootExpiry(); if (at !== undefined) this.set(at - Date.now() / 1000); },
});

/** Where the current signing root comes from (the certificate authority's PEM). */
export function trackRootCertificate(pem: () => string): void {
  rootPem = pem;
}

/** A workload certificate was asked for (Istio counts a CSR per request). */
export function recordCertificateRequested(): void {
  csrCount.inc();
}

export function recordCertificateIssued(): void {
  successCount.inc();
}

export function recordCertificateFailed(): void {
  signErrorCount.inc();
}
