// One accepted connection going through its listener's inspectors. Node has no MSG_PEEK, so the bytes
// are read into a private buffer and, once every inspector is done, put back at the front of the
// socket's readable queue (`unshift`), in order and unchanged: the filter chain then reads the stream
// from its first byte. Reading stops there, so a slow filter chain still gets backpressure.
//
// Ends in exactly one of: done (the listener chooses a filter chain), or closed (the peer closed or
// reset first, an inspector gave up, or listener_filters_timeout fired without
// continue_on_listener_filters_timeout).
import type { Socket } from 'node:net';
import type { ListenerStats } from '../telemetry/stat-objects.ts';
import type { ConnectionInfo } from './connection-info.ts';
import { InspectStatus, type ListenerInspector } from './listener-inspector.ts';

/**
 * An inspector still asking for more once this much is buffered closes the connection (the
 * inspectors' own limits are the same 64 KiB); the buffer may exceed it by at most one read.
 */
const maxPeekBytes = 64 * 1024;

const ignore = () => {};

export type ListenerFilterRunOptions = {
  timeoutMs: number;
  continueOnTimeout: boolean;
  stats: ListenerStats;
  done: (info: ConnectionInfo) => void;
  /** Called once the connection ends before inspection finished (the socket is already destroyed). */
  closed: (info: ConnectionInfo) => void;
};

export class ListenerFilterRun {
  readonly info: ConnectionInfo;
  private readonly socket: Socket;
  private readonly inspectors: ListenerInspector[];
  private readonly options: ListenerFilterRunOptions;
  private index = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private length = 0;
  private timer: NodeJS.Timeout | null = null;
  private finished = false;
  private readonly onData: (chunk: Buffer) => void;
  private readonly onEnd: () => void;
  private readonly onError: () => void;

  constructor(info: ConnectionInfo, inspectors: ListenerInspector[], options: ListenerFilterRunOptions) {
    this.info = info;
    this.socket = info.socket;
    this.inspectors = inspectors;
    this.options = options;
    this.onData = (chunk) => this.received(chunk);
    this.onEnd = () => {
      options.stats.downstreamListenerFilterRemoteClose++;
      this.close();
    };
    this.onError = () => this.close();
  }

  start(): void {
    this.options.stats.downstreamPreCxActive++;
    if (this.advance()) return;
    this.socket.on('error', this.onError);
    this.socket.on('end', this.onEnd);
    this.socket.on('close', this.onError);
    this.socket.on('data', this.onData);
    // A reserved listener accepts paused (pauseOnConnect): a 'data' listener alone does not start reading.
    this.socket.resume();
    if (this.options.timeoutMs > 0) this.timer = setTimeout(() => this.timedOut(), this.options.timeoutMs);
  }

  /** Closes a connection still being inspected (listener destroyed). */
  abort(): void {
    this.close();
  }

  private received(chunk: Buffer): void {
    if (this.finished) return;
    const needed = this.length + chunk.length;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(this.buffer.length * 2, maxPeekBytes), 1024));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    chunk.copy(this.buffer, this.length);
    this.length = needed;
    this.advance();
  }

  /** Runs the inspectors in order over what has been received; true once finished (done or closed). */
  private advance(): boolean {
    while (this.index < this.inspectors.length) {
      let status: InspectStatus;
      try {
        status = this.inspectors[this.index].inspect(this.buffer, this.length, this.info);
      } catch {
        status = InspectStatus.Close; // a bug in an inspector must not take the proxy down
      }
      if (status === InspectStatus.NeedMore && this.length >= maxPeekBytes) status = InspectStatus.Close;
      if (status === InspectStatus.NeedMore) return false;
      if (status === InspectStatus.Close) {
        this.options.stats.downstreamListenerFilterError++;
        this.close();
        return true;
      }
      this.index++;
    }
    this.finish();
    return true;
  }

  private timedOut(): void {
    this.timer = null;
    if (this.finished) return;
    this.options.stats.downstreamPreCxTimeout++;
    if (this.options.continueOnTimeout) this.finish();
    else this.close();
  }

  private detach(): void {
    this.finished = true;
    this.options.stats.downstreamPreCxActive--;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onError);
  }

  private finish(): void {
    if (this.finished) return;
    this.detach();
    this.socket.pause();
    if (this.length > 0) this.socket.unshift(this.buffer.subarray(0, this.length));
    this.options.done(this.info);
  }

  private close(): void {
    if (this.finished) return;
    this.detach();
    this.socket.on('error', ignore);
    this.socket.destroy();
    this.options.closed(this.info);
  }
}
