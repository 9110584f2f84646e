// A filter chain with a DownstreamTlsContext: each accepted connection (after the listener filters;
// the TLS socket first reads the bytes they peeked and put back) is handed to the chain's tls.Server
// (never listening: it is fed sockets), which runs the handshake: certificate, client certificate
// verification against trusted_ca, ALPN by the chain's preference. The decrypted stream then goes to
// the chain's network filter: the HTTP connection manager picks its codec by the negotiated ALPN,
// tcp_proxy pipes plaintext (TLS termination). A failed or timed-out handshake closes the connection.
//
// With SDS the certificate and roots change while the chain lives: before handing a connection to the
// server, the chain asks its TlsContextSource for the context in force and, when it changed (once per
// secret update), gives it to the server (tls.Server#setSecureContext). Handshakes already under way and
// established connections keep the context they started with; none is dropped. While a referenced secret
// has not arrived, connections are refused (closed before any handshake).
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { certificateMatches } from '../tls/san-matcher.ts';
import type { DownstreamTlsSpec } from '../tls/downstream-tls-context.ts';
import type { ResolvedTls } from '../tls/tls-context-source.ts';
import type { NetworkFilterChain } from './network-filter-chain.ts';

/** node:tls keeps the accepted socket it wraps here. */
type WrappingSocket = TLSSocket & { _parent?: Socket };

export class TlsTerminatingChain implements NetworkFilterChain {
  private readonly spec: DownstreamTlsSpec;
  private readonly inner: NetworkFilterChain;
  private readonly server: tls.Server;
  /** Accepted sockets still in their handshake. */
  private readonly handshaking = new Set<Socket>();
  private closed = false;
  /** The secure context the server has now. */
  private applied: ResolvedTls | null = null;

  constructor(spec: DownstreamTlsSpec, inner: NetworkFilterChain) {
    this.spec = spec;
    this.inner = inner;
    this.server = tls.createServer(spec.serverOptions);
    this.currentContext();
    this.server.on('secureConnection', (secure: WrappingSocket) => this.secured(secure));
    // A failed handshake (refused or missing certificate, no common protocol, timeout, not TLS).
    this.server.on('tlsClientError', (_err: Error, secure: WrappingSocket) => {
      this.handshakeEnded(secure);
      secure.destroy();
    });
  }

  get connectionCount(): number {
    return this.handshaking.size + this.inner.connectionCount;
  }

  handleConnection(socket: Socket): void {
    if (this.closed || this.currentContext() === null) {
      socket.destroy();
      return;
    }
    this.handshaking.add(socket);
    socket.once('close', () => this.handshaking.delete(socket));
    this.server.emit('connection', socket);
  }

  drain(): Promise<void> {
    for (const socket of [...this.handshaking]) socket.destroy();
    this.handshaking.clear();
    return this.inner.drain();
  }

  destroy(): void {
    this.closed = true;
    for (const socket of [...this.handshaking]) socket.destroy();
    this.handshaking.clear();
    this.inner.destroy();
  }

  /** The context in force, given to the server when it changed; null while a secret is missing. */
  private currentContext(): ResolvedTls | null {
    const resolved = this.spec.source.resolve();
    if (typeof resolved === 'string') return null;
    if (resolved !== this.applied) {
      this.server.setSecureContext(resolved.options);
      this.applied = resolved;
    }
    return resolved;
  }

  private handshakeEnded(secure: WrappingSocket): void {
    if (secure._parent !== undefined) this.handshaking.delete(secure._parent);
  }

  private secured(secure: WrappingSocket): void {
    this.handshakeEnded(secure);
    if (this.closed || !this.accepts(secure)) {
      secure.destroy();
      return;
    }
    this.inner.handleConnection(secure);
  }

  /** What node:tls leaves to the caller: an optional client certificate that fails, SANs, require_sni. */
  private accepts(secure: TLSSocket): boolean {
    const spec = this.spec;
    if (spec.requireSni && !(secure as TLSSocket & { servername?: string | false }).servername) return false;
    if (!spec.requestCertificate) return true;
    const cert = secure.getPeerCertificate();
    const presented = cert !== null && Object.keys(cert).length > 0;
    if (!presented) return !spec.requireCertificate;
    if (!secure.authorized) return false;
    const resolved = spec.source.resolve();
    return typeof resolved !== 'string' && certificateMatches(resolved.sanMatchers, cert);
  }
}
