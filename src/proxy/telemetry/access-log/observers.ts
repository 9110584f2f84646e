// Access logs as observers of a connection manager's exchanges and of tcp_proxy connections: each
// finished exchange (or closed connection) goes through every access log's filter, and the lines of
// the logs that keep it are queued on their path's shared writer.
import type { ObserverContext, StreamObserver } from '../../http/stream-observers.ts';
import type { HttpStream } from '../../http/stream.ts';
import type { TcpObserver, TcpSessionInfo } from '../../tcp/tcp-observers.ts';
import type { AccessLogSpec } from './config.ts';
import { HttpLogRecord } from './http-record.ts';
import type { LogFilter } from './filters.ts';
import type { LineFormat } from './line-format.ts';
import type { LogRecord } from './record.ts';
import { rememberAddresses } from './socket-address.ts';
import { TcpLogRecord } from './tcp-record.ts';
import { accessLogWriter, type AccessLogWriter } from './writer.ts';

/** One access log bound to its writer. */
class BoundLog {
  readonly filter: LogFilter | null;
  readonly format: LineFormat;
  readonly writer: AccessLogWriter;

  constructor(spec: AccessLogSpec, context: ObserverContext) {
    this.filter = spec.filter;
    this.format = spec.format;
    this.writer = accessLogWriter(spec.path, context.logger);
  }
}

function bind(specs: readonly AccessLogSpec[], context: ObserverContext): BoundLog[] {
  return specs.map((spec) => new BoundLog(spec, context));
}

function emit(logs: readonly BoundLog[], record: LogRecord): void {
  for (let i = 0; i < logs.length; i++) {
    const log = logs[i];
    if (log.filter !== null && !log.filter(record)) continue;
    log.writer.write(log.format.line(record));
  }
}

export class HttpAccessLogObserver implements StreamObserver {
  private readonly logs: BoundLog[];

  constructor(specs: readonly AccessLogSpec[], context: ObserverContext) {
    this.logs = bind(specs, context);
  }

  onRequest(stream: HttpStream): void {
    rememberAddresses(stream.connection.socket);
  }

  onComplete(stream: HttpStream): void {
    emit(this.logs, new HttpLogRecord(stream, performance.now()));
  }
}

export class TcpAccessLogObserver implements TcpObserver {
  private readonly logs: BoundLog[];

  constructor(specs: readonly AccessLogSpec[], context: ObserverContext) {
    this.logs = bind(specs, context);
  }

  onOpen(info: TcpSessionInfo): void {
    rememberAddresses(info.downstream);
  }

  onClose(info: TcpSessionInfo): void {
    emit(this.logs, new TcpLogRecord(info, Date.now()));
  }
}
