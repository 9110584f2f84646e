// The downstream request body of a request whose route may retry. The body still streams to the first
// attempt as it arrives (with backpressure), and a copy is kept, up to Envoy's default buffer limit
// (per_connection_buffer_limit_bytes, 1 MiB), so that a retry can send it again. Once more than that
// has arrived the copy is dropped and the request is no longer retried (as Envoy abandons the retry
// when its retry buffer overflows).
//
// Each attempt gets its own Readable: undici destroys a request body when its attempt fails, and the
// downstream request (node's IncomingMessage) must survive that so that the next attempt can continue
// reading it. Only built for routes with a retry policy and requests with a body. Its source is the
// downstream request, or the main side of a mirror tee (mirror-body.ts) when the request is mirrored.
import { Readable } from 'node:stream';

/** Envoy's default per_connection_buffer_limit_bytes, which bounds the retry buffer. */
export const retryBufferLimit = 1024 * 1024;

/** The body one attempt sends: what was kept so far, then what still arrives downstream. */
class AttemptBody extends Readable {
  readonly owner: RetryBody;

  constructor(owner: RetryBody) {
    super();
    this.owner = owner;
  }

  override _read(): void {
    // undici wants more: let the downstream flow again (only the current attempt may resume it).
    if (this.owner.current === this) this.owner.req.resume();
  }
}

export class RetryBody {
  readonly req: Readable;
  /** Kept chunks (empty once overflowed). */
  chunks: Buffer[] = [];
  size = 0;
  /** More than retryBufferLimit arrived: no copy, no retry. */
  overflowed = false;
  /** The downstream request body has ended. */
  ended = false;
  current: AttemptBody | null = null;
  /**
   * The stream whose telemetry counts the body as it arrives: a body without content-length (chunked,
   * HTTP/2 streaming such as gRPC), whose size is known only this way; null otherwise.
   */
  private readonly counted: { requestBodyBytes: number } | null;

  constructor(req: Readable, stream: { requestBodyBytes: number } | null = null) {
    this.req = req;
    this.counted = stream !== null && stream.requestBodyBytes === 0 ? stream : null;
    req.on('data', this.onData.bind(this));
    req.on('end', this.onEnd.bind(this));
  }

  /** A fresh body for the next attempt, replaying what was kept. */
  attach(): Readable {
    const body = new AttemptBody(this);
    for (const chunk of this.chunks) body.push(chunk);
    if (this.ended) body.push(null);
    this.current = body;
    return body;
  }

  /** The current attempt is over: hold the downstream (backpressure) until the next attempt attaches. */
  detach(): void {
    this.current = null;
    if (!this.ended) this.req.pause();
  }

  private onData(chunk: Buffer): void {
    if (this.counted !== null) this.counted.requestBodyBytes += chunk.length;
    if (!this.overflowed) {
      this.size += chunk.length;
      if (this.size > retryBufferLimit) {
        this.overflowed = true;
        this.chunks = [];
      } else {
        this.chunks.push(chunk);
      }
    }
    const body = this.current;
    if (body === null || body.destroyed) {
      this.req.pause();
      return;
    }
    if (!body.push(chunk)) this.req.pause();
  }

  private onEnd(): void {
    this.ended = true;
    const body = this.current;
    if (body !== null && !body.destroyed) body.push(null);
  }
}
