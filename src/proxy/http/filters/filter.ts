// The HTTP filter contract (DESIGN.md habit 2, after Envoy's envoy/http/filter.h and
// pass_through_filter.h): each hook returns an explicit status, and a pass-through base lets a filter
// implement only the hooks it needs.
//
// A filter object is built once per connection manager config (not per request) and its hooks
// receive the stream, so the hot path allocates nothing for a filter that has no per-request state.
// Bodies are streamed by the router with backpressure; body hooks (decodeData / encodeData) will be
// added with the first filter that needs to see body bytes.
import type { HttpStream } from '../stream.ts';

export const FilterStatus = {
  /** Go on to the next filter. */
  Continue: 0,
  /** Stop here; the filter resumes the stream later (stream.continueDecoding / continueEncoding) or has replied. */
  StopIteration: 1,
} as const;
export type FilterStatus = (typeof FilterStatus)[keyof typeof FilterStatus];

export interface HttpFilter {
  readonly name: string;
  /**
   * Request headers are in (stream.method, authority, path, requestHeaders; stream.route is resolved).
   * May change them, reply with stream.sendLocalReply(), or pause.
   */
  decodeHeaders(stream: HttpStream): FilterStatus;
  /**
   * Response headers (stream.responseStatus, stream.responseHeaders) are about to go downstream. Runs
   * in reverse order, from the filter before the one that produced the response (the router, or a
   * filter that replied with sendLocalReply).
   */
  encodeHeaders(stream: HttpStream): FilterStatus;
}

export class PassThroughFilter implements HttpFilter {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  decodeHeaders(_stream: HttpStream): FilterStatus {
    return FilterStatus.Continue;
  }

  encodeHeaders(_stream: HttpStream): FilterStatus {
    return FilterStatus.Continue;
  }
}
