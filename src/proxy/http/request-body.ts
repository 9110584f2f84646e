// The body of an HTTP/2 downstream request as an HTTP/1.1 upstream request (undici) reads it. The
// body's source is the ServerHttp2Stream, which is also the response: undici destroys a request body
// when it is done with it (even after success), and destroying the HTTP/2 stream would reset the
// response. So it reads the stream through this Readable of its own, with backpressure (the stream is
// paused while this one is full), and destroying it only lets go of the stream.
import { Readable } from 'node:stream';

export class DetachedBody extends Readable {
  readonly source: Readable;
  private readonly onData: (chunk: Buffer) => void;
  private readonly onEnd: () => void;

  constructor(source: Readable) {
    super();
    this.source = source;
    this.onData = (chunk) => {
      if (!this.push(chunk)) source.pause();
    };
    this.onEnd = () => { this.push(null); };
    source.on('data', this.onData);
    source.once('end', this.onEnd);
  }

  override _read(): void {
    this.source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    callback(err);
  }
}
