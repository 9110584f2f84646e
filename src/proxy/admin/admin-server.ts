// The proxy's admin port: /ready, /config_dump, /stats/prometheus, POST /drain, /server_info.
import { closeHttp, listenHttp } from '../../common/http-server.ts';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import http from '../../common/node-http.ts';
import type { Registry } from 'prom-client';

export interface ProxyAdminSource {
  ready(): { ready: boolean; reason?: string };
  configDump(): unknown;
  serverInfo(): unknown;
  drain(): Promise<void>;
  registry: Registry;
  /** The registry to scrape, when it is not `registry` itself (the workers' metrics summed, with --concurrency). */
  scrape?: () => Promise<Registry>;
}

export class ProxyAdminServer {
  private readonly server: Server;

  constructor(source: ProxyAdminSource) {
    this.server = http.createServer((req, res) => {
      handle(source, req, res).catch((err: unknown) => send(res, 500, 'text/plain', `${String(err)}\n`));
    });
  }

  listen(port: number, host: string): Promise<number> {
    return listenHttp(this.server, port, host);
  }

  close(): Promise<void> {
    return closeHttp(this.server);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function handle(source: ProxyAdminSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  if (method === 'GET' && path === '/ready') {
    const r = source.ready();
    return send(res, r.ready ? 200 : 503, 'text/plain', r.ready ? 'LIVE\n' : `NOT READY: ${r.reason ?? 'no config yet'}\n`);
  }
  if (method === 'GET' && path === '/config_dump') {
    return send(res, 200, 'application/json', JSON.stringify(source.configDump(), null, 2) + '\n');
  }
  if (method === 'GET' && path === '/server_info') {
    return send(res, 200, 'application/json', JSON.stringify(await source.serverInfo(), null, 2) + '\n');
  }
  if (method === 'GET' && (path === '/stats/prometheus' || path === '/metrics')) {
    const registry = source.scrape ? await source.scrape() : source.registry;
    return send(res, 200, registry.contentType, await registry.metrics());
  }
  if (method === 'POST' && (path === '/drain' || path === '/drain_listeners')) {
    await source.drain();
    return send(res, 200, 'text/plain', 'OK\n');
  }
  send(res, 404, 'text/plain', `no such admin endpoint: ${method} ${path}\n`);
}
