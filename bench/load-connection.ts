// One connection of the load generator, whatever its protocol: one request in flight at a time.
// HTTP/1.1: an undici Client (pipelining 1) and the dispatch handler of its request in flight, reused
// for every request. HTTP/2 (h2c): load-connection-h2.ts.
import { Client, type Dispatcher } from 'undici';

export type Completion = (connection: LoadConnection, ok: boolean) => void;

export interface LoadConnection {
  /** Called when the request in flight ends; the generator swaps it between phases. */
  completed: Completion;
  /** When the request was meant to be sent (open loop) or was sent (closed loop), performance.now() ms. */
  intended: number;
  sentAt: number;
  measured: boolean;
  send(intended: number, measured: boolean): void;
  close(): Promise<void>;
}

export class LoadConnectionH1 implements LoadConnection, Dispatcher.DispatchHandler {
  readonly client: Client;
  readonly options: Dispatcher.DispatchOptions;
  completed: Completion;
  intended: number;
  sentAt: number;
  measured: boolean;
  status: number;
  private readonly failed: () => void;

  constructor(origin: string, host: string, path: string, timeoutMs: number, completed: Completion) {
    this.client = new Client(origin, {
      pipelining: 1,
      keepAliveTimeout: 120_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: timeoutMs,
    });
    this.options = { method: 'GET', path, headers: { host } };
    this.completed = completed;
    this.intended = 0;
    this.sentAt = 0;
    this.measured = false;
    this.status = 0;
    this.failed = () => this.completed(this, false);
  }

  send(intended: number, measured: boolean): void {
    this.intended = intended;
    this.sentAt = performance.now();
    this.measured = measured;
    this.status = 0;
    this.client.dispatch(this.options, this);
  }

  close(): Promise<void> {
    return this.client.destroy();
  }

  onConnect(): void {}

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.completed(this, this.status >= 200 && this.status < 300);
  }

  onError(): void {
    // undici fails every queued request of a client in one synchronous loop and checks afterwards that
    // none is left: a request sent again from inside this callback would trip that check.
    setImmediate(this.failed);
  }
}
