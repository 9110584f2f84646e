// A listener filter that inspects a connection's first bytes without consuming them (Envoy's
// tls_inspector, http_inspector): each one looks at everything received so far and either asks for
// more, is done (having set what it learned on the ConnectionInfo), or closes the connection.
import type { ConnectionInfo } from './connection-info.ts';

export const InspectStatus = {
  NeedMore: 0,
  Done: 1,
  /** The bytes cannot be inspected (too large): the connection is closed. */
  Close: 2,
} as const;
export type InspectStatus = (typeof InspectStatus)[keyof typeof InspectStatus];

/** One connection's inspection; created per connection by its listener filter. */
export interface ListenerInspector {
  /** `data[0..length)` is every byte received so far (length 0 before the first read). */
  inspect(data: Buffer, length: number, info: ConnectionInfo): InspectStatus;
}
