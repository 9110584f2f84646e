// Registers access logs for the `access_log` field of http_connection_manager and tcp_proxy.
import { registerStreamObserver } from '../../http/stream-observers.ts';
import { registerTcpObserver } from '../../tcp/tcp-observers.ts';
import type { FieldPath, Message } from '../../upstream/envoy-config.ts';
import { compileAccessLogs, type AccessLogSpec } from './config.ts';
import { HttpAccessLogObserver, TcpAccessLogObserver } from './observers.ts';

function compile(at: FieldPath, config: Message): AccessLogSpec[] | null {
  const specs = compileAccessLogs(at.field('access_log'), config.access_log);
  return specs.length === 0 ? null : specs;
}

export function register(): void {
  registerStreamObserver(['access_log'], (at, config) => {
    const specs = compile(at, config);
    return specs === null ? null : (context) => new HttpAccessLogObserver(specs, context);
  });
  registerTcpObserver(['access_log'], (at, config) => {
    const specs = compile(at, config);
    return specs === null ? null : (context) => new TcpAccessLogObserver(specs, context);
  });
}
