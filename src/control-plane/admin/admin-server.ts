// The control plane's HTTP admin API (JSON), used by the `weft` CLI and the dashboard.
//   GET    /ready                                  readiness
//   POST   /apply[?namespace=NS]                   YAML or JSON body: validate all, then store all (atomic)
//   POST   /delete[?namespace=NS]                  YAML body: delete the resources it names
//   GET    /resources[?kind=K&namespace=NS&name=N] stored Istio resources
//   DELETE /resources/KIND/NAMESPACE/NAME
//   GET    /proxies                                connected proxies and their xDS sync status
//   GET    /proxies/ID/config                      the Envoy resources generated for one proxy
//   POST   /analyze[?namespace=NS]                 findings about the stored config (+ files in the body), as istioctl analyze
//   GET    /metrics                                Prometheus metrics with istiod's names (pilot_*, galley_*, citadel_*)
//   /tokens, /ca/...                               workload tokens and the certificate authority (security-routes.ts)
import { closeHttp, listenHttp } from '../../common/http-server.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseManifests, resourceKey, supportedKinds, type IstioResource } from '../../api/index.ts';
import { securityRoute, type SecurityAdminDeps } from './security-routes.ts';
import type { Logger } from '../../common/log.ts';
import { analyzeRequest } from '../analyze/request.ts';
import type { MeshController } from '../controller.ts';
import type { AdsServer } from '../server/ads-server.ts';
import type { Store, StoredResource, StoreOp } from '../store/index.ts';
import { HttpError, readBody, sendJson } from './http-util.ts';
import { metricsContentType, metricsText, recordValidationErrors, recordValidationPassed } from '../metrics/index.ts';

/** The Istio kinds the store holds (internal kinds such as proxy registrations are not listed or deleted). */
export const istioKinds: ReadonlySet<string> = new Set(supportedKinds());

export interface AdminDeps {
  store: Store;
  ads: AdsServer;
  controller: MeshController;
  logger: Logger;
  /** The certificate and token authorities (tokens, trust bundle, root rotation endpoints). */
  security?: SecurityAdminDeps;
}

function present(r: StoredResource): unknown {
  const v = r.value as IstioResource;
  return { ...v, metadata: { ...v.metadata, resourceVersion: String(r.resourceVersion) } };
}

export class AdminServer {
  private readonly server: Server;
  private readonly deps: AdminDeps;

  constructor(deps: AdminDeps) {
    this.deps = deps;
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) sendJson(res, err.status, err.body);
        else {
          deps.logger.error('admin request failed', { url: req.url, error: String(err) });
          sendJson(res, 500, { error: String(err) });
        }
      });
    });
  }

  listen(port: number, host: string): Promise<number> {
    return listenHttp(this.server, port, host);
  }

  close(): Promise<void> {
    return closeHttp(this.server);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const ns = url.searchParams.get('namespace') ?? undefined;
    if (method === 'GET' && url.pathname === '/ready') return sendJson(res, 200, { ready: true });
    if (method === 'GET' && url.pathname === '/metrics') {
      const text = await metricsText();
      res.writeHead(200, { 'content-type': metricsContentType }).end(text);
      return;
    }
    if (method === 'POST' && url.pathname === '/apply') return sendJson(res, 200, await this.apply(await readBody(req), ns));
    if (method === 'POST' && url.pathname === '/delete') return sendJson(res, 200, await this.deleteManifests(await readBody(req), ns));
    if (method === 'POST' && url.pathname === '/analyze') return sendJson(res, 200, analyzeRequest(this.deps, await readBody(req), ns));
    if (method === 'GET' && url.pathname === '/resources') {
      const kind = url.searchParams.get('kind') ?? undefined;
      const name = url.searchParams.get('name') ?? undefined;
      const items = this.deps.store.list({ kind, namespace: ns })
        .filter((r) => istioKinds.has(r.kind) && (!name || r.name === name))
        .map(present);
      return sendJson(res, 200, { items });
    }
    if (method === 'DELETE' && parts[0] === 'resources' && parts.length === 4) {
      const [, kind, namespace, name] = parts;
      return sendJson(res, 200, await this.deleteKeys([{ kind, namespace, name }], true));
    }
    if (method === 'GET' && url.pathname === '/proxies') return sendJson(res, 200, { proxies: this.deps.ads.status() });
    if (method === 'GET' && parts[0] === 'proxies' && parts[2] === 'config' && parts.length === 3) {
      const config = this.deps.controller.proxyConfig(parts[1]);
      if (!config) throw new HttpError(404, { error: `no connected proxy ${parts[1]}` });
      return sendJson(res, 200, config);
    }
    if (this.deps.security && await securityRoute(req, res, url, this.deps.security)) return;
    throw new HttpError(404, { error: `no such endpoint: ${method} ${url.pathname}` });
  }

  /** `countValidation`: count the results in galley_validation_* (what `weft apply` validates). */
  private parse(text: string, namespace: string | undefined, countValidation = false): IstioResource[] {
    const { resources, errors } = parseManifests(text, { source: 'request', defaultNamespace: namespace ?? 'default' });
    if (countValidation) {
      for (const r of resources) recordValidationPassed(r.apiVersion, r.kind);
      recordValidationErrors(errors);
    }
    if (errors.length > 0) {
      this.deps.logger.warn('rejected invalid config', { errors: errors.map((e) => e.text) });
      throw new HttpError(400, { errors: errors.map((e) => ({ code: e.code, message: e.text, kind: e.kind, namespace: e.namespace, name: e.name, path: e.path })) });
    }
    const seen = new Set<string>();
    for (const r of resources) {
      const key = resourceKey(r);
      if (seen.has(key)) throw new HttpError(400, { errors: [{ code: 'WEFT_E_DUPLICATE', message: `${r.kind} ${r.metadata.namespace}/${r.metadata.name}: defined twice in one request` }] });
      seen.add(key);
    }
    return resources;
  }

  private async apply(text: string, namespace: string | undefined) {
    const resources = this.parse(text, namespace, true);
    const { store } = this.deps;
    const before = resources.map((r) => store.get(r.kind, r.metadata.namespace, r.metadata.name));
    const ops: StoreOp[] = resources.map((r) => ({ op: 'put', kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, value: r }));
    const { revision, results } = await store.commit(ops);
    const touched = (w: string) => resources.some((r) => w.includes(`${r.kind} ${r.metadata.namespace}/${r.metadata.name}`) || (r.kind === 'ServiceEntry' && w.startsWith('ServiceEntry host')));
    return {
      revision,
      warnings: this.deps.controller.configWarnings(resources.map((r) => r.metadata.namespace)).filter(touched),
      results: resources.map((r, i) => ({
        kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name,
        action: !before[i] ? 'created' : before[i]!.resourceVersion === results[i].resourceVersion ? 'unchanged' : 'configured',
      })),
    };
  }

  private async deleteManifests(text: string, namespace: string | undefined) {
    const resources = this.parse(text, namespace);
    return this.deleteKeys(resources.map((r) => ({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name })), false);
  }

  private async deleteKeys(keys: { kind: string; namespace: string; name: string }[], mustExist: boolean) {
    const { store } = this.deps;
    const missing = keys.filter((k) => !istioKinds.has(k.kind) || !store.get(k.kind, k.namespace, k.name));
    if (mustExist && missing.length > 0) {
      throw new HttpError(404, { errors: missing.map((k) => ({ code: 'WEFT_E_NOT_FOUND', message: `${k.kind} ${k.namespace}/${k.name}: not found` })) });
    }
    const ops: StoreOp[] = keys.filter((k) => istioKinds.has(k.kind)).map((k) => ({ op: 'delete', ...k }));
    const { revision } = await store.commit(ops);
    return { revision, results: keys.map((k) => ({ ...k, action: missing.includes(k) ? 'not found' : 'deleted' })) };
  }
}
