// RequestAuthentication (JWT) with AuthorizationPolicy on live traffic, as in Istio's JWT tasks: a
// request without a token passes authentication and is left to authorization, an invalid token gets
// 401, requestPrincipals require a valid one, claims reach authorization, claims are copied to headers,
// and a jwksUri is fetched by the control plane (from a server on 127.0.0.1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { webcrypto } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';

type CryptoKey = webcrypto.CryptoKey;
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, type Client } from '../traffic/scenario.ts';

let s: Scenario;
let sleep: Client;
let jwks: JWK;
let privateKey: CryptoKey;
let otherKey: CryptoKey;
let jwksServer: Server;
let jwksPort = 0;
const issuer = 'testing@secure.istio.io';

const get = (headers: Record<string, string> = {}, path = '/headers') => httpCall(sleep.outboundPort, path, { host: 'httpbin:8000', ...headers }, 'GET');
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function token(claims: Record<string, unknown> = {}, options: { key?: CryptoKey; iss?: string; exp?: number; sub?: string } = {}): Promise<string> {
  return new SignJWT({ groups: ['group1'], foo: 'bar', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .setIssuer(options.iss ?? issuer)
    .setSubject(options.sub ?? issuer)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 3600)
    .sign(options.key ?? privateKey);
}

before(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  jwks = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwks] }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksPort = (jwksServer.address() as { port: number }).port;
  s = await Scenario.start();
  await s.applyFile('../security/services.yaml');
  await s.workload({ service: 'httpbin', namespace: 'foo', serviceAccount: 'httpbin', servicePort: 8000 });
  sleep = await s.client({ name: 'sleep', namespace: 'foo', serviceAccount: 'sleep' });
  await waitFor('traffic flows', async () => (await get()).status === 200);
  await s.mesh.apply(`
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt-example, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  jwtRules:
  - issuer: "${issuer}"
    jwks: '${JSON.stringify({ keys: [jwks] })}'
    outputClaimToHeaders:
    - { header: x-jwt-claim-foo, claim: foo }
`);
  await waitFor('tokens are checked', async () => (await get(bearer('not-a-jwt'))).status === 401);
});
after(async () => {
  await s?.stop();
  jwksServer?.close();
  assertNoLeakedProcesses();
});

test('without a policy: no token passes, a valid token passes, every kind of invalid token gets 401', async () => {
  assert.equal((await get()).status, 200, 'no token: authentication passes');
  const valid = await get(bearer(await token()));
  assert.equal(valid.status, 200);
  assert.equal(valid.json.headers['x-jwt-claim-foo'], 'bar', 'outputClaimToHeaders');
  assert.equal(valid.json.headers.authorization, undefined, 'the token is not forwarded by default');
  const now = Math.floor(Date.now() / 1000);
  const invalid: [string, string][] = [
    ['expired', await token({}, { exp: now - 600 })],
    ['another signer', await token({}, { key: otherKey })],
    ['unknown issuer', await token({}, { iss: 'someone-else' })],
    ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: issuer, sub: issuer, exp: now + 600 })).toString('base64url')}.`],
  ];
  for (const [what, t] of invalid) {
    const r = await get(bearer(t));
    assert.equal(r.status, 401, `${what}: ${r.body}`);
    assert.match(String(r.headers['www-authenticate']), /Bearer/);
  }
});

test('requestPrincipals require a valid token: no token is 403, a valid one 200', async () => {
  await s.mesh.apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-jwt, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules:
  - from: [{ source: { requestPrincipals: ["${issuer}/${issuer}"] } }]
`);
  await waitFor('policy in force', async () => (await get()).status === 403);
  assert.equal((await get(bearer(await token()))).status, 200);
  assert.equal((await get(bearer(await token({}, { sub: 'someone' })))).status, 403, 'another subject');
  assert.equal((await get(bearer(await token({}, { key: otherKey })))).status, 401, 'invalid tokens still get 401 first');
});

test('claims reach authorization: only group1 may pass', async () => {
  await s.mesh.apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-jwt, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules:
  - from: [{ source: { requestPrincipals: ["${issuer}/*"] } }]
    when:
    - { key: "request.auth.claims[groups]", values: ["group1"] }
    - { key: "request.auth.claims[org][team]", values: ["mesh"] }
`);
  const group2 = await token({ groups: ['group2'], org: { team: 'mesh' } });
  await waitFor('claims policy in force', async () => (await get(bearer(group2))).status === 403);
  assert.equal((await get(bearer(await token({ org: { team: 'mesh' } })))).status, 200, 'group1, nested claim org.team');
  assert.equal((await get(bearer(await token({ org: { team: 'web' } })))).status, 403, 'nested claim differs');
  await s.mesh.weft(['delete', 'authorizationpolicy', 'require-jwt', '-n', 'foo']);
});

test('jwksUri: the control plane fetches the key set; an unreachable one makes tokens fail with 401', async () => {
  await s.mesh.apply(`
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt-example, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  jwtRules:
  - issuer: "${issuer}"
    jwksUri: "http://127.0.0.1:${jwksPort}/jwks.json"
  - issuer: "unreachable.example"
    jwksUri: "http://127.0.0.1:1/jwks.json"
`);
  await waitFor('the fetched key set verifies tokens', async () => (await get(bearer(await token()))).status === 200
    && !(await get(bearer(await token()))).json.headers['x-jwt-claim-foo'], 15_000);
  const unreachable = await token({}, { iss: 'unreachable.example' });
  assert.equal((await get(bearer(unreachable))).status, 401);
  assert.ok(s.mesh.controlPlane.logs.some((l) => l.includes('cannot fetch JWKS') && l.includes('127.0.0.1:1')), 'the control plane logs the failure');
});
