// SPIFFE identities of workloads (DESIGN.md decision 5):
// spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>.
import { invalidIdentity } from './errors.ts';

export interface WorkloadIdentity { namespace: string; serviceAccount: string }

// Kubernetes names namespaces and service accounts with DNS-1123 labels; an identity that could not
// exist in Kubernetes is refused so that the same SPIFFE id means the same thing everywhere.
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const trustDomainPattern = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/;

export function checkLabel(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidIdentity(`${field} must be a non-empty string`);
  if (value.length > 63 || !dns1123Label.test(value)) {
    throw invalidIdentity(`${field} "${value}" is not a DNS-1123 label (at most 63 lower-case letters, digits and '-', ` +
      'starting and ending with a letter or digit)');
  }
  return value;
}

/** A trust domain is the authority part of a SPIFFE id: lower-case letters, digits, '.', '-', '_'. */
export function checkTrustDomain(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidIdentity('trustDomain must be a non-empty string');
  if (value.length > 255 || !trustDomainPattern.test(value)) {
    throw invalidIdentity(`trustDomain "${value}" is not a valid SPIFFE trust domain (lower-case letters, digits, '.', '-' and '_')`);
  }
  return value;
}

export function checkIdentity(identity: WorkloadIdentity): WorkloadIdentity {
  if (identity === null || typeof identity !== 'object') throw invalidIdentity('an identity needs a namespace and a serviceAccount');
  return { namespace: checkLabel('namespace', identity.namespace), serviceAccount: checkLabel('serviceAccount', identity.serviceAccount) };
}

export function spiffeId(trustDomain: string, identity: WorkloadIdentity): string {
  return `spiffe://${trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
}
