// What a listener hands its accepted sockets to: the terminal network filter of its filter chain
// (http_connection_manager or tcp_proxy).
import type { Socket } from 'node:net';

export interface NetworkFilterChain {
  handleConnection(socket: Socket): void;
  /** Graceful: lets connections finish (HTTP: closes keep-alive connections when idle). Resolves when none is left. */
  drain(): Promise<void>;
  /** Closes every connection now. */
  destroy(): void;
  readonly connectionCount: number;
}
