// What a listener knows about an accepted connection when it chooses a filter chain: its addresses,
// and what the listener filters learned from its first bytes (Envoy's ConnectionSocket: detected
// transport protocol, requested server name, requested application protocols).
import type { Socket } from 'node:net';
import { parseIp } from './cidr-range.ts';

const noProtocols: readonly string[] = [];

export class ConnectionInfo {
  readonly socket: Socket;
  /** 'tls' once tls_inspector found a ClientHello; '' (read as raw_buffer) otherwise. */
  transportProtocol = '';
  /** SNI, lowercased; '' when none. */
  serverName = '';
  /** ALPN from the ClientHello (client order), or what http_inspector detected. */
  applicationProtocols: readonly string[] = noProtocols;
  private localIp: Uint8Array | null | undefined = undefined;
  private remoteIp: Uint8Array | null | undefined = undefined;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** The transport protocol as filter chains match it: raw_buffer when no listener filter detected one. */
  get detectedTransportProtocol(): string {
    return this.transportProtocol === '' ? 'raw_buffer' : this.transportProtocol;
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  /** The destination address as bytes (parsed on first use), or null when unknown. */
  localAddressBytes(): Uint8Array | null {
    if (this.localIp === undefined) this.localIp = parseIp(this.socket.localAddress ?? '');
    return this.localIp;
  }

  remoteAddressBytes(): Uint8Array | null {
    if (this.remoteIp === undefined) this.remoteIp = parseIp(this.socket.remoteAddress ?? '');
    return this.remoteIp;
  }

  /** Envoy's SAME_IP_OR_LOOPBACK: the peer is a loopback address or has the listener's own IP. */
  isSameIpOrLoopback(): boolean {
    const remote = this.remoteAddressBytes();
    if (remote === null) return false;
    if (remote.length === 4 && remote[0] === 127) return true;
    if (remote.length === 16 && remote[15] === 1 && remote.every((b, i) => i === 15 || b === 0)) return true;
    const local = this.localAddressBytes();
    return local !== null && local.length === remote.length && local.every((b, i) => b === remote[i]);
  }
}
