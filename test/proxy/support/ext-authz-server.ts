// A real HTTP authorization service on 127.0.0.1:0, shaped after Istio's ext-authz sample
// (samples/extauthz): a check carrying `x-ext-authz: allow` is allowed (200, with
// `x-ext-authz-check-result: allowed`); any other is denied with 403, `x-ext-authz-check-result: denied`
// and a text body naming the missing header. Like the sample it echoes
// `x-ext-authz-additional-header-override` back on both answers.
//
// For tests it records every check it received, can hold checks unanswered (a slow service) and can
// answer every check with a fixed status (a failing service); extra answer headers can be added.
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';

export const checkHeader = 'x-ext-authz';
export const allowedValue = 'allow';
export const resultHeader = 'x-ext-authz-check-result';
export const overrideHeader = 'x-ext-authz-additional-header-override';
export const denyBody = `denied by ext_authz for not found header \`${checkHeader}: ${allowedValue}\` in the request`;

export type ReceivedCheck = { method: string; url: string; headers: http.IncomingHttpHeaders; rawHeaders: string[]; body: string };

export type ExtAuthzServer = {
  port: number;
  /** Checks received, in order. */
  checks: ReceivedCheck[];
  /** Checks whose connection closed before they were answered (the proxy gave up on them). */
  abandoned: number;
  /** While true, checks are read and left unanswered. */
  hold: boolean;
  /** When set, every check is answered with this status (and no body). */
  failWith: number | null;
  /** Headers added to allowed answers. */
  allowHeaders: Record<string, string | string[]>;
  /** Headers added to denied answers. */
  denyHeaders: Record<string, string | string[]>;
  close(): Promise<void>;
};

export async function startExtAuthzServer(): Promise<ExtAuthzServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      authz.checks.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString() });
      if (authz.hold) {
        res.once('close', () => { if (!res.writableFinished) authz.abandoned++; });
        return;
      }
      if (authz.failWith !== null) {
        res.writeHead(authz.failWith, { 'content-length': '0' });
        res.end();
        return;
      }
      const override = req.headers[overrideHeader];
      const echo = override === undefined ? {} : { [overrideHeader]: override };
      if (req.headers[checkHeader] === allowedValue) {
        res.writeHead(200, { [resultHeader]: 'allowed', ...echo, ...authz.allowHeaders, 'content-length': '0' });
        res.end();
      } else {
        res.writeHead(403, { [resultHeader]: 'denied', ...echo, ...authz.denyHeaders, 'content-type': 'text/plain', 'content-length': Buffer.byteLength(denyBody) });
        res.end(denyBody);
      }
    });
  });
  const authz: ExtAuthzServer = {
    port: 0, checks: [], abandoned: 0, hold: false, failWith: null, allowHeaders: {}, denyHeaders: {},
    close: async () => {
      server.closeAllConnections();
      if (server.listening) await new Promise((r) => server.close(r));
    },
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  authz.port = (server.address() as net.AddressInfo).port;
  return authz;
}
