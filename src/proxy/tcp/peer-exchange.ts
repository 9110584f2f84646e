// Istio's metadata exchange for TCP, between two sidecars on a mutual TLS connection: the client's
// sidecar offers ALPN `istio-peer-exchange`; when the server's sidecar accepts it, the client's first
// bytes on the connection are a preamble (a magic number, a length, and its workload metadata, the same
// encoding as the HTTP x-envoy-peer-metadata header), which the server's sidecar reads and removes
// before the application's bytes flow. Only the two sidecars ever see it; it only names labels.
import type { Socket } from 'node:net';
import type { ProxyNodeInfo } from '../http/stream-observers.ts';
import { decodePeerHeader, encodePeerHeaders } from '../telemetry/peer-metadata-header.ts';
import type { WorkloadPeer } from '../telemetry/peer-metadata.ts';

export const peerExchangeAlpn = 'istio-peer-exchange';
/** Istio's magic number for the exchange preamble. */
const magic = 0x3d230467;
const maxMetadataBytes = 16 * 1024;

/** The preamble this proxy sends, or null when it does not know its workload. */
export function peerExchangePreamble(node: ProxyNodeInfo): Buffer | null {
  const m = node.metadata;
  if (typeof m.NAMESPACE !== 'string' && typeof m.WORKLOAD_NAME !== 'string') return null;
  const payload = Buffer.from(encodePeerHeaders(node)[0]);
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32BE(magic, 0);
  out.writeUInt32BE(payload.length, 4);
  payload.copy(out, 8);
  return out;
}

/**
 * Reads the client's preamble from a connection that negotiated the exchange; resolves with its
 * workload, or null (no preamble: what was read is put back unread, for the application). Leaves the
 * socket paused with the bytes after the preamble unread.
 */
export function readPeerExchangePreamble(socket: Socket, timeoutMs: number): Promise<WorkloadPeer | null> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (peer: WorkloadPeer | null, rest: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (rest.length > 0) socket.unshift(rest);
      resolve(peer);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length < 8) return;
      if (buffered.readUInt32BE(0) !== magic) return finish(null, buffered);
      const length = buffered.readUInt32BE(4);
      if (length > maxMetadataBytes) return finish(null, buffered);
      if (buffered.length < 8 + length) return;
      let peer: WorkloadPeer | null;
      try {
        peer = decodePeerHeader(buffered.subarray(8, 8 + length).toString());
      } catch {
        peer = null;
      }
      finish(peer, buffered.subarray(8 + length));
    };
    const onEnd = () => finish(null, buffered);
    const timer = setTimeout(() => finish(null, buffered), timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('end', onEnd);
  });
}
