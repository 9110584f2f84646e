// Workload tokens: a proxy proves who it is with a token the control plane issued. Without a valid
// token it gets no config and no certificate, and the control plane logs why; a revoked token stops
// working; the token's identity, not the proxy's say-so, is what its certificate carries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Mesh } from '../../harness/mesh.ts';
import { assertNoLeakedProcesses, stopProcess, waitFor } from '../../harness/process.ts';

let mesh: Mesh;

before(async () => {
  mesh = await Mesh.start();
});
after(async () => {
  await mesh?.stop();
  assertNoLeakedProcesses();
});

const refusals = () => mesh.controlPlane.logs.filter((l) => l.includes('refused a proxy'));

async function connectedProxies(): Promise<string[]> {
  const r = await mesh.weft(['proxy-status', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { proxies: { id: string }[] }).proxies.map((p) => p.id);
}

test('a proxy with a valid token gets config and a certificate for the token identity', async () => {
  // A workload that serves a port: its inbound listener needs its certificate.
  const p = await mesh.startProxy({ name: 'with-token', namespace: 'foo', serviceAccount: 'sleep', labels: { app: 'sleep' }, inbound: [{ servicePort: 8000, appPort: 9 }] });
  const dump = await (await fetch(`http://127.0.0.1:${p.ready.adminPort}/config_dump`)).json() as { configs: Record<string, { resources: Record<string, unknown>[] }> };
  const secrets = dump.configs.secrets?.resources ?? [];
  const cert = secrets.find((s) => s.name === 'default') as { tls_certificate?: { certificate_chain?: { inline_string?: string; inline_bytes?: string } } } | undefined;
  assert.ok(cert, `the proxy holds its workload certificate: ${JSON.stringify(secrets.map((s) => s.name))}`);
  const chain = cert.tls_certificate?.certificate_chain;
  const pem = chain?.inline_string ?? Buffer.from(chain?.inline_bytes ?? '', 'base64').toString();
  const { X509Certificate } = await import('node:crypto');
  assert.match(new X509Certificate(pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 25)).subjectAltName ?? '', /URI:spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep/);
  await stopProcess(p);
});

test('a proxy without a token gets no config, and the control plane says why', async () => {
  const before = refusals().length;
  const p = await mesh.startProxy({ name: 'no-token', namespace: 'foo', labels: { app: 'x' }, noToken: true, noWait: true });
  await waitFor('the refusal is logged', () => refusals().length > before);
  assert.match(refusals().at(-1)!, /no token/);
  assert.ok(!(await connectedProxies()).some((id) => id.startsWith('no-token')), 'it never shows as connected');
  await stopProcess(p);
});

test('a forged or revoked token is refused', async () => {
  const file = join(mesh.dataDir, 'forged.token');
  // A token signed by someone else: the payload says foo/admin, the signature is not ours.
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ namespace: 'foo', serviceAccount: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
  await writeFile(file, `${header}.${payload}.${Buffer.from('not a signature').toString('base64url')}\n`);
  let before = refusals().length;
  const forged = await mesh.startProxy({ name: 'forged', namespace: 'foo', labels: { app: 'x' }, noToken: true, noWait: true, extraArgs: ['--token-file', file] });
  await waitFor('the forged token is refused', () => refusals().length > before);
  assert.match(refusals().at(-1)!, /invalid token/);
  await stopProcess(forged);

  const created = await mesh.weft(['token', 'create', '-n', 'foo', '--service-account', 'temp', '-o', 'json']);
  assert.equal(created.code, 0, created.stderr);
  const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
  const revoke = await mesh.weft(['token', 'revoke', id]);
  assert.equal(revoke.code, 0, revoke.stderr);
  const revokedFile = join(mesh.dataDir, 'revoked.token');
  await writeFile(revokedFile, token + '\n');
  before = refusals().length;
  const revoked = await mesh.startProxy({ name: 'revoked', namespace: 'foo', labels: { app: 'x' }, noToken: true, noWait: true, extraArgs: ['--token-file', revokedFile] });
  await waitFor('the revoked token is refused', () => refusals().length > before);
  assert.match(refusals().at(-1)!, /revoked/);
  await stopProcess(revoked);
});

test('a token for one namespace does not let a proxy claim another', async () => {
  const file = await mesh.tokenFile('foo', 'sleep');
  const before = refusals().length;
  const p = await mesh.startProxy({ name: 'claims-bar', namespace: 'bar', labels: { app: 'x' }, noToken: true, noWait: true, extraArgs: ['--token-file', file] });
  await waitFor('the mismatch is refused', () => refusals().length > before);
  assert.match(refusals().at(-1)!, /namespace foo/);
  await stopProcess(p);
});

test('revoking the token of a connected proxy ends its stream, and its reconnection is refused', async () => {
  const created = await mesh.weft(['token', 'create', '-n', 'foo', '--service-account', 'leaving', '-o', 'json']);
  assert.equal(created.code, 0, created.stderr);
  const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
  const file = join(mesh.dataDir, 'leaving.token');
  await writeFile(file, token + '\n');
  const p = await mesh.startProxy({ name: 'leaving', namespace: 'foo', labels: { app: 'leaving' }, noToken: true, extraArgs: ['--token-file', file] });
  assert.ok((await connectedProxies()).includes('leaving.foo'));
  const before = refusals().length;
  const revoke = await mesh.weft(['token', 'revoke', id]);
  assert.equal(revoke.code, 0, revoke.stderr);
  assert.match(revoke.stdout, /1 proxy stream\(s\) using it closed/);
  await waitFor('the reconnection is refused', () => refusals().slice(before).some((l) => l.includes('revoked')));
  assert.ok(!(await connectedProxies()).includes('leaving.foo'), 'no longer connected');
  await stopProcess(p);
});

test('a proxy of another identity cannot take over a connected proxy node id (and its certificate)', async () => {
  const victim = await mesh.startProxy({ name: 'victim', namespace: 'foo', serviceAccount: 'httpbin', labels: { app: 'httpbin' }, inbound: [{ servicePort: 8000, appPort: 9 }] });
  const before = refusals().length;
  // A valid token for attacker/evil, and the victim's node id.
  const intruder = await mesh.startProxy({
    name: 'intruder', namespace: 'attacker', serviceAccount: 'evil', labels: { app: 'x' }, noWait: true, extraArgs: ['--node-id', 'victim.foo'],
  });
  await waitFor('the intruder is refused', () => refusals().slice(before).some((l) => l.includes('in use by a proxy of another identity')));
  assert.ok((await connectedProxies()).includes('victim.foo'));
  const dump = await (await fetch(`http://127.0.0.1:${victim.ready.adminPort}/config_dump`)).json() as { configs: { secrets?: { resources: Record<string, any>[] } } };
  const chain = dump.configs.secrets?.resources.find((r) => r.name === 'default')?.tls_certificate?.certificate_chain;
  const pem = chain?.inline_string ?? Buffer.from(chain?.inline_bytes ?? '', 'base64').toString();
  const { X509Certificate } = await import('node:crypto');
  assert.match(new X509Certificate(pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 25)).subjectAltName ?? '', /ns\/foo\/sa\/httpbin/, 'the victim keeps its own identity');
  await stopProcess(intruder);
  await stopProcess(victim);
});
