// An external authorizer over HTTP, like Istio's sample ext-authz server: a check is allowed when the
// request carries `x-ext-authz: allow` (the answer then sets x-ext-authz-check-result: allowed, which the
// sidecar forwards upstream), denied with 403 otherwise. Prints {"ready":true,"port":N}.
import http from 'node:http';

let checks = 0;
const server = http.createServer((req, res) => {
  checks++;
  if (req.url === '/_stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ checks: checks - 1 }));
    return;
  }
  req.resume();
  if (req.headers['x-ext-authz'] === 'allow') {
    res.writeHead(200, { 'x-ext-authz-check-result': 'allowed', 'x-ext-authz-check-path': req.url ?? '' });
    res.end();
    return;
  }
  const body = 'denied by ext_authz for not found header `x-ext-authz: allow` in the request';
  res.writeHead(403, { 'x-ext-authz-check-result': 'denied', 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(JSON.stringify({ ready: true, port, pid: process.pid }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
