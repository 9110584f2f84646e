// What one request's verification gathers while its requirement is checked: the stream whose headers
// the verified tokens change, the data for dynamic metadata, and whether the route must be chosen again.
import type { HttpStream } from '../../stream.ts';

export class VerifyContext {
  readonly stream: HttpStream;
  /** Seconds since the epoch, read once per request. */
  readonly now: number;
  /** Entries for dynamic metadata under envoy.filters.http.jwt_authn (payload_in_metadata, header_in_metadata); null: none. */
  extracted: Record<string, unknown> | null = null;
  /** A provider with clear_route_cache added a claim header: the route is resolved again. */
  clearRouteCache = false;

  constructor(stream: HttpStream) {
    this.stream = stream;
    this.now = Math.floor(Date.now() / 1000);
  }

  addExtracted(key: string, value: unknown): void {
    if (this.extracted === null) this.extracted = {};
    this.extracted[key] = value;
  }
}
