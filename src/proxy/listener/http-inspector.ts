// envoy.filters.listener.http_inspector: on a plaintext connection (transport protocol not detected as
// tls), detects HTTP from the first bytes and sets the application protocol filter chains match on:
// `h2c` for the HTTP/2 connection preface, `http/1.1` for an HTTP/1.1 request line, `http/1.0` for
// another HTTP/1.x one. Anything else leaves the application protocols unset. Only the request line
// is read (incrementally: a byte at a time costs one pass); like Envoy, a request line that is still
// incomplete after 64 KiB closes the connection.
import type { ConnectionInfo } from './connection-info.ts';
import { InspectStatus, type ListenerInspector } from './listener-inspector.ts';

const http2Preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const maxHttpInspectBytes = 64 * 1024;

const Phase = { Method: 0, Target: 1, Version: 2, LineEnd: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** RFC 9110 tchar. */
function isTokenChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || '!#$%&\'*+-.^_`|~'.includes(String.fromCharCode(c));
}

const versionPrefix = 'HTTP/1.';

export class HttpInspector implements ListenerInspector {
  private phase: Phase = Phase.Method;
  /** Bytes of the request line already checked. */
  private at = 0;
  private phaseStart = 0;
  private minor = -1;

  inspect(data: Buffer, length: number, info: ConnectionInfo): InspectStatus {
    if (info.transportProtocol !== '' && info.transportProtocol !== 'raw_buffer') return InspectStatus.Done;
    if (length === 0) return InspectStatus.NeedMore;
    const n = Math.min(length, http2Preface.length);
    if (data.compare(http2Preface, 0, n, 0, n) === 0) {
      if (length < http2Preface.length) return this.needMore(length);
      info.applicationProtocols = ['h2c'];
      return InspectStatus.Done;
    }
    const result = this.scan(data, length);
    if (result === null) return this.needMore(length);
    if (result !== '') info.applicationProtocols = [result];
    return InspectStatus.Done;
  }

  private needMore(length: number): InspectStatus {
    return length >= maxHttpInspectBytes ? InspectStatus.Close : InspectStatus.NeedMore;
  }

  /** The protocol once the request line is complete, '' when it is not HTTP/1.x, null: need more bytes. */
  private scan(data: Buffer, length: number): string | null {
    for (; this.at < length; this.at++) {
      const c = data[this.at];
      const inPhase = this.at - this.phaseStart;
      switch (this.phase) {
        case Phase.Method:
          if (c === 0x20 && inPhase > 0) this.enter(Phase.Target);
          else if (!isTokenChar(c)) return '';
          break;
        case Phase.Target:
          if (c === 0x20 && inPhase > 0) this.enter(Phase.Version);
          else if (c <= 0x20 || c === 0x7f) return '';
          break;
        case Phase.Version:
          if (inPhase < versionPrefix.length) {
            if (c !== versionPrefix.charCodeAt(inPhase)) return '';
          } else if (c < 0x30 || c > 0x39) {
            return '';
          } else {
            this.minor = c - 0x30;
            this.enter(Phase.LineEnd);
          }
          break;
        case Phase.LineEnd:
          if (c === 0x0a || (c === 0x0d && inPhase === 0)) {
            if (c === 0x0a) return this.minor === 1 ? 'http/1.1' : 'http/1.0';
          } else {
            return '';
          }
          break;
      }
    }
    return null;
  }

  private enter(phase: Phase): void {
    this.phase = phase;
    this.phaseStart = this.at + 1;
  }
}
