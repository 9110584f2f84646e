// One HTTP/2 connection of the load generator (h2c with prior knowledge): a node:http2 session with
// one stream in flight at a time, so that it loads a proxy as one HTTP/1.1 keep-alive connection does.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Completion, LoadConnection } from './load-connection.ts';

const { HTTP2_HEADER_STATUS } = constants;

export class LoadConnectionH2 implements LoadConnection {
  session: ClientHttp2Session;
  private readonly origin: string;
  readonly headers: OutgoingHttpHeaders;
  completed: Completion;
  intended: number;
  sentAt: number;
  measured: boolean;
  status: number;
  private readonly timeoutMs: number;
  private readonly onResponse: (headers: IncomingHttpHeaders) => void;
  private readonly failed: () => void;

  constructor(origin: string, host: string, path: string, timeoutMs: number, completed: Completion) {
    this.origin = origin;
    this.session = this.connect();
    this.headers = { ':method': 'GET', ':path': path, ':authority': host, ':scheme': 'http' };
    this.completed = completed;
    this.intended = 0;
    this.sentAt = 0;
    this.measured = false;
    this.status = 0;
    this.timeoutMs = timeoutMs;
    this.onResponse = (headers) => { this.status = Number(headers[HTTP2_HEADER_STATUS]); };
    this.failed = () => this.completed(this, false);
  }

  /** A session with windows big enough for a 64 KiB body without waiting for a WINDOW_UPDATE, as browsers have. */
  private connect(): ClientHttp2Session {
    const session = connect(this.origin, { settings: { initialWindowSize: 1 << 20 } });
    session.once('connect', () => session.setLocalWindowSize(1 << 22));
    // A session error fails the stream in flight (its own 'error'); the next send opens a new session.
    session.on('error', () => {});
    return session;
  }

  send(intended: number, measured: boolean): void {
    this.intended = intended;
    this.sentAt = performance.now();
    this.measured = measured;
    this.status = 0;
    // As undici does for HTTP/1.1: a connection the server closed (GOAWAY, idle timeout) is opened again.
    if (this.session.destroyed || this.session.closed) this.session = this.connect();
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(this.headers, { endStream: true });
    } catch {
      // The session is going away (a GOAWAY arrived): the next send opens a new one.
      this.session.destroy();
      setImmediate(this.failed);
      return;
    }
    // 'end', 'error' and 'close' may all fire, and the next request may start inside completed():
    // each stream reports once, through its own flag.
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      this.completed(this, ok);
    };
    stream.setTimeout(this.timeoutMs, () => stream.close(constants.NGHTTP2_CANCEL));
    stream.on('response', this.onResponse);
    stream.on('end', () => finish(this.status >= 200 && this.status < 300));
    stream.on('error', () => finish(false));
    stream.on('close', () => finish(false));
    stream.resume();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.session.destroyed) { resolve(); return; }
      this.session.once('close', () => resolve());
      this.session.destroy();
    });
  }
}
