// envoy.filters.listener.tls_inspector: when a connection starts with a TLS ClientHello, its
// transport protocol is `tls` and its SNI and ALPN become the requested server name and application
// protocols that filter chains match on; otherwise nothing is set (raw_buffer). The bytes are only
// looked at: the ClientHello reaches the filter chain (and, through tcp_proxy, the upstream) unchanged.
import { ClientHelloParser, ClientHelloStatus } from './client-hello.ts';
import type { ConnectionInfo } from './connection-info.ts';
import { InspectStatus, type ListenerInspector } from './listener-inspector.ts';

export class TlsInspector implements ListenerInspector {
  private readonly parser = new ClientHelloParser();

  inspect(data: Buffer, length: number, info: ConnectionInfo): InspectStatus {
    if (length === 0) return InspectStatus.NeedMore;
    switch (this.parser.parse(data, length)) {
      case ClientHelloStatus.NeedMore:
        return InspectStatus.NeedMore;
      case ClientHelloStatus.Found:
        info.transportProtocol = 'tls';
        info.serverName = this.parser.serverName;
        if (this.parser.alpn.length > 0) info.applicationProtocols = this.parser.alpn;
        return InspectStatus.Done;
      case ClientHelloStatus.TooLarge:
        return InspectStatus.Close;
      default:
        return InspectStatus.Done; // not TLS: raw_buffer
    }
  }
}
