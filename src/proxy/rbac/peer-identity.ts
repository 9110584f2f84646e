// Who the downstream peer is, as RBAC's `authenticated` principal sees it: the SANs and subject of
// a client certificate that the TLS handshake verified (a TLS-terminated connection whose socket is a
// node:tls TLSSocket with `authorized`). A plaintext connection, or one whose peer presented no
// certificate or one that did not verify, has no identity.
//
// Envoy's AuthenticatedMatcher compares principal_name with every URI SAN, then every DNS SAN, then
// the subject (RFC 2253 form); the SPIFFE identity of a mesh workload is its URI SAN.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { subjectAltNames } from '../tls/san-matcher.ts';

const none: readonly string[] = [];

export class PeerIdentity {
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** RFC 2253: `CN=bar,O=foo` (most specific RDN first), '' when empty. */
  readonly subject: string;

  constructor(uriSans: readonly string[], dnsSans: readonly string[], subject: string) {
    this.uriSans = uriSans;
    this.dnsSans = dnsSans;
    this.subject = subject;
  }

  /** The principal as logs and messages name it: the first URI SAN, else the first DNS SAN, else the subject. */
  get principal(): string {
    return this.uriSans[0] ?? this.dnsSans[0] ?? this.subject;
  }
}

/** The verified peer identity of `socket`, or null (not TLS, no certificate, or not verified). */
export function peerIdentityOf(socket: Socket): PeerIdentity | null {
  const secure = socket as Partial<TLSSocket>;
  if (secure.encrypted !== true || secure.authorized !== true || typeof secure.getPeerCertificate !== 'function') return null;
  const cert = secure.getPeerCertificate();
  if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) return null;
  let uris: string[] | null = null;
  let dns: string[] | null = null;
  for (const san of subjectAltNames(cert)) {
    if (san.type === 'URI') (uris ??= []).push(san.value);
    else if (san.type === 'DNS') (dns ??= []).push(san.value);
  }
  const x509 = typeof secure.getPeerX509Certificate === 'function' ? secure.getPeerX509Certificate() : undefined;
  // A mesh workload certificate has an empty subject (its identity is the URI SAN): node then gives none.
  const subject = (x509?.subject ?? '').split('\n').filter((rdn) => rdn !== '').reverse().join(',');
  return new PeerIdentity(uris ?? none, dns ?? none, subject);
}
