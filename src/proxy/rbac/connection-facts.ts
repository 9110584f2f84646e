// What RBAC reads of a downstream connection: its destination (the address and port the client
// connected to), the peer's address, the TLS SNI and the verified peer identity. Each is computed on
// first use and kept for the connection's life, so requests on a kept-alive connection do not parse
// addresses or certificates again (DownstreamConnection holds one per HTTP connection; the network
// filter makes one per connection it checks).
import type { Socket } from 'node:net';
import { parseIp } from '../listener/cidr-range.ts';
import { peerIdentityOf, type PeerIdentity } from './peer-identity.ts';

export class ConnectionFacts {
  readonly socket: Socket;
  private destination: Uint8Array | null | undefined = undefined;
  private remote: Uint8Array | null | undefined = undefined;
  private sni: string | undefined = undefined;
  private identity: PeerIdentity | null | undefined = undefined;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** The destination IP as bytes (4 or 16), or null when unknown. */
  destinationIp(): Uint8Array | null {
    if (this.destination === undefined) this.destination = parseIp(this.socket.localAddress ?? '');
    return this.destination;
  }

  destinationPort(): number {
    return this.socket.localPort ?? 0;
  }

  /**
   * The peer's IP as bytes. The sidecar trusts no x-forwarded-for hop, so Envoy's remote_ip and
   * direct_remote_ip are both this address.
   */
  remoteIp(): Uint8Array | null {
    if (this.remote === undefined) this.remote = parseIp(this.socket.remoteAddress ?? '');
    return this.remote;
  }

  /** The SNI the client sent in its TLS handshake with the proxy; '' when none (or not TLS). */
  requestedServerName(): string {
    if (this.sni === undefined) {
      const name = (this.socket as Socket & { servername?: string | false | null }).servername;
      this.sni = typeof name === 'string' ? name : '';
    }
    return this.sni;
  }

  /** The verified peer certificate's identity; null when there is none. */
  peerIdentity(): PeerIdentity | null {
    if (this.identity === undefined) this.identity = peerIdentityOf(this.socket);
    return this.identity;
  }
}
