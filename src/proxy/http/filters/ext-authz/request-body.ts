// with_request_body: the start of the downstream request body, read before the check so that it can go
// to the authorization service, and put back in front of the request so that the router still sends
// the whole body upstream (the request is a Readable the router reads only once the filters let it go).
//
// The body is read in paused mode (`readable` + read()) and given back with unshift(): a stream whose
// end has been reached but not yet announced takes data back and announces its end only once that data
// has been read again, so a body that fits in the buffer is read whole and still reaches the router.
// Envoy's semantics (BufferSettings): up to max_request_bytes are held; a longer body is answered 413
// unless allow_partial_message, with which the first max_request_bytes go to the service, marked partial.
import type { Readable } from 'node:stream';
import type { HttpStream } from '../../stream.ts';

/** BufferSettings, compiled. */
export class BodySettings {
  readonly maxRequestBytes: number;
  readonly allowPartialMessage: boolean;

  constructor(maxRequestBytes: number, allowPartialMessage: boolean) {
    this.maxRequestBytes = maxRequestBytes;
    this.allowPartialMessage = allowPartialMessage;
  }
}

/** Who learns what was read (the filter). */
export interface BodyOwner {
  /** `body`: what goes to the service; null: the body is longer than allowed (answer 413). */
  onBodyRead(stream: HttpStream, body: Buffer | null, partial: boolean): void;
}

type ReadableWithState = Readable & { _readableState: { ended: boolean } };

export class RequestBodyReader {
  readonly stream: HttpStream;
  readonly settings: BodySettings;
  readonly owner: BodyOwner;
  readonly req: ReadableWithState;
  private chunks: Buffer[] = [];
  private size = 0;
  private done = false;
  private readonly onReadable: () => void;
  private readonly onClose: () => void;

  constructor(stream: HttpStream, settings: BodySettings, owner: BodyOwner) {
    this.stream = stream;
    this.settings = settings;
    this.owner = owner;
    this.req = stream.req as unknown as ReadableWithState;
    this.onReadable = this.read.bind(this);
    this.onClose = this.stop.bind(this);
  }

  start(): void {
    this.stream.res.once('close', this.onClose);
    this.req.on('readable', this.onReadable);
  }

  private read(): void {
    if (this.done) return;
    const req = this.req;
    const max = this.settings.maxRequestBytes;
    let chunk: Buffer | null;
    while ((chunk = req.read() as Buffer | null) !== null) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size > max) break;
    }
    // The end of the body was reached (not yet announced: the data given back below defers it).
    const ended = req._readableState.ended && req.readableLength === 0;
    if (!ended && this.size <= max) return;
    this.stop();
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    if (all.length > 0) req.unshift(all);
    const partial = this.size > max;
    if (partial && !this.settings.allowPartialMessage) this.owner.onBodyRead(this.stream, null, true);
    else this.owner.onBodyRead(this.stream, partial ? all.subarray(0, max) : all, partial);
  }

  /** Done reading, or the client went away. */
  private stop(): void {
    if (this.done) return;
    this.done = true;
    this.req.off('readable', this.onReadable);
    this.stream.res.off('close', this.onClose);
  }
}
