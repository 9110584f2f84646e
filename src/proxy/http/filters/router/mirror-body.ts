// The downstream request body of a request that is mirrored: one reader of the downstream request
// (node's IncomingMessage, or the HTTP/2 stream) feeding the main upstream request with backpressure,
// and a copy of each chunk to every mirror copy without any: a mirror never slows the main request
// down. A mirror whose copy falls more than mirrorBufferLimit behind (its connection is slow, or it
// waits for one) is abandoned rather than holding the memory. Only built for a request with a body
// that is mirrored.
import { Readable } from 'node:stream';
import type { MirrorRequest } from './mirror-request.ts';

/** How far (bytes not yet taken by its connection) a mirror copy's body may fall behind: Envoy's default buffer limit. */
export const mirrorBufferLimit = 1024 * 1024;

/** The main request's body: what arrives downstream, read on as the upstream takes it. */
class MainBody extends Readable {
  readonly tee: MirrorTee;

  constructor(tee: MirrorTee) {
    super();
    this.tee = tee;
  }

  override _read(): void {
    this.tee.req.resume();
  }
}

/** A mirror copy's body: chunks pushed as they arrive downstream, whatever its reader does. */
export class MirrorBody extends Readable {
  override _read(): void {}
}

export class MirrorTee {
  /** The downstream request body (node:http's IncomingMessage, or the HTTP/2 stream). */
  readonly req: Readable;
  readonly main: MainBody;
  readonly mirrors: MirrorRequest[] = [];
  ended = false;

  constructor(req: Readable) {
    this.req = req;
    this.main = new MainBody(this);
    req.on('data', this.onData.bind(this));
    req.on('end', this.onEnd.bind(this));
    req.on('close', this.onClose.bind(this));
    // The main upstream request failed (undici destroys its body): keep reading for the mirrors.
    this.main.on('close', this.onMainClose.bind(this));
  }

  private onData(chunk: Buffer): void {
    const mirrors = this.mirrors;
    for (let i = 0; i < mirrors.length; i++) {
      const mirror = mirrors[i];
      const body = mirror.body!;
      if (mirror.finished || body.destroyed) continue;
      if (body.readableLength + chunk.length > mirrorBufferLimit) mirror.abandon();
      else body.push(chunk);
    }
    const main = this.main;
    if (!main.destroyed && !main.push(chunk)) this.req.pause();
  }

  private onEnd(): void {
    this.ended = true;
    for (const mirror of this.mirrors) if (!mirror.body!.destroyed) mirror.body!.push(null);
    if (!this.main.destroyed) this.main.push(null);
  }

  private onClose(): void {
    if (this.ended) return;
    // The downstream went away mid-body: the copies are incomplete, and so is the main request.
    for (const mirror of this.mirrors) {
      if (mirror.finished) continue;
      mirror.cluster.stats.upstreamRqCancelled++;
      mirror.cancel();
    }
    if (!this.main.destroyed) this.main.destroy(new Error('downstream request aborted'));
  }

  private onMainClose(): void {
    if (!this.ended) this.req.resume();
  }
}
