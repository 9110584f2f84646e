// The admin API's security endpoints, used by `weft token` and `weft ca`:
//   POST   /tokens                 {namespace, serviceAccount, ttl?} → a signed workload token
//   GET    /tokens                 tokens known to the control plane (never the token text)
//   DELETE /tokens/ID              revoke a token: proxies using it get no config or certificate from then on
//   GET    /ca/root                the trust bundle (PEM): what proxies verify the xDS server and their peers with
//   POST   /ca/rotate-root         start a new root; the old one stays trusted until retired
//   POST   /ca/retire-roots        stop trusting the roots before the current one
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from '../../api/index.ts';
import type { CertificateAuthority, TokenAuthority } from '../ca/index.ts';
import { HttpError, readBody, sendJson } from './http-util.ts';

export interface SecurityAdminDeps {
  ca: CertificateAuthority;
  tokens: TokenAuthority;
  /** Ends the xDS streams a revoked token authenticated; returns how many. */
  revoked?: (tokenId: string) => number;
}

function field(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v === '') throw new HttpError(400, { error: `${name}: required (a string)` });
  return v;
}

/** Handles the request if it is one of the endpoints above; false otherwise. */
export async function securityRoute(req: IncomingMessage, res: ServerResponse, url: URL, deps: SecurityAdminDeps): Promise<boolean> {
  const method = req.method ?? 'GET';
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'tokens') {
    if (method === 'POST' && parts.length === 1) {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      } catch {
        throw new HttpError(400, { error: 'the body must be JSON: {"namespace": "...", "serviceAccount": "...", "ttl": "24h"}' });
      }
      const ttl = body.ttl;
      let ttlMs: number | undefined;
      if (ttl !== undefined) {
        if (typeof ttl !== 'string') throw new HttpError(400, { error: 'ttl: must be a duration such as "24h" or "0s" (no expiry)' });
        ttlMs = parseDuration(ttl);
        if (ttlMs === undefined) throw new HttpError(400, { error: `ttl: ${JSON.stringify(ttl)} is not a duration (e.g. 90s, 24h, 8760h)` });
      }
      try {
        const { token, claims } = await deps.tokens.create({ namespace: field(body, 'namespace'), serviceAccount: field(body, 'serviceAccount'), ...(ttlMs !== undefined ? { ttlMs } : {}) });
        sendJson(res, 200, { token, ...claims });
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw new HttpError(400, { error: (err as Error).message });
      }
      return true;
    }
    if (method === 'GET' && parts.length === 1) {
      sendJson(res, 200, { tokens: deps.tokens.list() });
      return true;
    }
    if (method === 'DELETE' && parts.length === 2) {
      const revoked = await deps.tokens.revoke(parts[1]);
      const disconnected = revoked ? (deps.revoked?.(parts[1]) ?? 0) : 0;
      sendJson(res, revoked ? 200 : 404, revoked ? { revoked: parts[1], disconnected } : { error: `no token ${parts[1]}` });
      return true;
    }
  }
  if (parts[0] === 'ca') {
    if (method === 'GET' && url.pathname === '/ca/root') {
      const pem = deps.ca.trustBundlePem();
      res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(pem) });
      res.end(pem);
      return true;
    }
    if (method === 'POST' && url.pathname === '/ca/rotate-root') {
      await deps.ca.rotateRoot();
      sendJson(res, 200, { rotated: true, roots: countCertificates(deps.ca.trustBundlePem()) });
      return true;
    }
    if (method === 'POST' && url.pathname === '/ca/retire-roots') {
      await deps.ca.retireOldRoots();
      sendJson(res, 200, { retired: true, roots: countCertificates(deps.ca.trustBundlePem()) });
      return true;
    }
  }
  return false;
}

function countCertificates(pem: string): number {
  return pem.split('-----BEGIN CERTIFICATE-----').length - 1;
}
