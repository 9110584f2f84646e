// Which codec a downstream connection speaks (codec_type AUTO). With TLS (a filter chain's
// DownstreamTlsContext), the negotiated ALPN decides: 'h2' or 'http/1.1'; a TLS connection that
// negotiated no ALPN is sniffed like plaintext. On plaintext, as Envoy does, the
// first bytes decide: the HTTP/2 connection preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) means h2c
// with prior knowledge, anything else HTTP/1.1. The bytes read are put back (unshift) before the
// connection goes to its codec. Only the first bytes of a connection are looked at, never a request.
import type { Socket } from 'node:net';
import { Codec } from './connection-manager-config.ts';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** The codec the connection negotiated by ALPN, or null when it negotiated none (plaintext). */
export function codecByAlpn(socket: Socket): Codec | null {
  const alpn = (socket as Socket & { alpnProtocol?: string | false | null }).alpnProtocol;
  if (alpn === 'h2') return Codec.Http2;
  if (alpn === 'http/1.1' || alpn === 'http/1.0') return Codec.Http1;
  return null;
}

/**
 * Reads from `socket` until its bytes match the preface whole (HTTP/2) or stop matching it (HTTP/1.1),
 * puts them back and calls `chosen`, the socket paused. A connection silent for `idleTimeoutMs` (0:
 * no limit) is closed.
 */
export function sniffCodec(socket: Socket, idleTimeoutMs: number, chosen: (codec: Codec) => void): void {
  let seen: Buffer | null = null;
  const onTimeout = (): void => { socket.destroy(); };
  const onData = (chunk: Buffer): void => {
    const data = seen === null ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(data.length, preface.length);
    const matches = data.compare(preface, 0, n, 0, n) === 0;
    if (matches && n < preface.length) {
      seen = data;
      return;
    }
    socket.off('data', onData);
    if (idleTimeoutMs > 0) {
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
    }
    socket.pause();
    socket.unshift(data);
    chosen(matches ? Codec.Http2 : Codec.Http1);
  };
  socket.on('data', onData);
  if (idleTimeoutMs > 0) {
    socket.setTimeout(idleTimeoutMs);
    socket.once('timeout', onTimeout);
  }
  socket.resume();
}
