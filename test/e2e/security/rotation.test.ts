// Certificate rotation under steady traffic: workload certificates with a short lifetime are re-issued
// at about half life and pushed over SDS while requests flow, and the root is rotated with both roots
// trusted during the overlap, then the old one retired: no request fails at any point.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { assertNoLeakedProcesses, stopProcess, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, type Client, type Workload } from '../traffic/scenario.ts';

let s: Scenario;
let httpbin: Workload;
let sleep: Client;

before(async () => {
  s = await Scenario.start({ controlPlaneArgs: ['--workload-cert-ttl', '6s'] });
  await s.applyFile('../security/services.yaml');
  httpbin = await s.workload({ service: 'httpbin', namespace: 'foo', serviceAccount: 'httpbin', servicePort: 8000 });
  sleep = await s.client({ name: 'sleep', namespace: 'foo', serviceAccount: 'sleep' });
  // Everything in foo speaks mTLS only, so every request below is a mutual TLS request.
  await s.mesh.apply(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: foo }
spec: { mtls: { mode: STRICT } }
`);
  await waitFor('mTLS traffic flows', async () => (await httpCall(sleep.outboundPort, '/', { host: 'httpbin:8000' })).status === 200);
});
after(async () => {
  await s?.stop();
  assertNoLeakedProcesses();
});

/** Requests one after another (a few in parallel) until `stop` resolves; returns every status seen. */
async function steadyTraffic(stop: Promise<unknown>, lanes = 3): Promise<number[]> {
  const statuses: number[] = [];
  let done = false;
  void stop.then(() => (done = true));
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (!done) {
      try {
        statuses.push((await httpCall(sleep.outboundPort, '/', { host: 'httpbin:8000' })).status);
      } catch {
        statuses.push(0);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }));
  return statuses;
}

/** The certificate httpbin's sidecar presents on a new connection (the handshake then fails for want of a client certificate). */
function presentedCertificate(): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: httpbin.port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const raw = socket.getPeerCertificate(true).raw;
      socket.destroy();
      resolve(new X509Certificate(raw));
    });
    socket.on('error', reject);
  });
}

async function secret(adminPort: number, name: string): Promise<string> {
  const dump = await (await fetch(`http://127.0.0.1:${adminPort}/config_dump`)).json() as { configs: { secrets?: { resources: Record<string, any>[] } } };
  const r = dump.configs.secrets?.resources.find((x) => x.name === name);
  const ds = r?.tls_certificate?.certificate_chain ?? r?.validation_context?.trusted_ca;
  return ds?.inline_string ?? Buffer.from(ds?.inline_bytes ?? '', 'base64').toString();
}

function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c));
}

test('workload certificates rotate at half life under steady traffic, and no request fails', async () => {
  const first = await presentedCertificate();
  assert.match(first.subjectAltName ?? '', /spiffe:\/\/cluster\.local\/ns\/foo\/sa\/httpbin/);
  const serials = new Set([first.serialNumber]);
  const stop = waitFor('two rotations', async () => {
    serials.add((await presentedCertificate()).serialNumber);
    return serials.size >= 3;
  }, 20_000, 250);
  const statuses = await steadyTraffic(stop);
  await stop;
  assert.ok(statuses.length > 50, `traffic flowed (${statuses.length} requests)`);
  assert.deepEqual(statuses.filter((x) => x !== 200), [], 'no request failed during rotation');
});

test('root rotation: both roots trusted during the overlap, the old one retired after, no request fails', async () => {
  const oldRoots = certificates(await secret(sleep.proxy.ready.adminPort, 'ROOTCA'));
  assert.equal(oldRoots.length, 1);
  const run = (async () => {
    const rotated = await s.mesh.weft(['ca', 'rotate-root']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const newRoot = await waitFor('both sidecars trust two roots and hold certificates of the new one', async () => {
      const bundles = await Promise.all([sleep.proxy.ready.adminPort, httpbin.proxy.ready.adminPort].map((p) => secret(p, 'ROOTCA')));
      const roots = certificates(bundles[0]);
      if (roots.length !== 2 || certificates(bundles[1]).length !== 2) return false;
      const fresh = roots.find((r) => r.serialNumber !== oldRoots[0].serialNumber)!;
      const leaves = await Promise.all([sleep.proxy.ready.adminPort, httpbin.proxy.ready.adminPort].map(async (p) => certificates(await secret(p, 'default'))[0]));
      return leaves.every((l) => l.verify(fresh.publicKey)) ? fresh : false;
    }, 20_000, 200);
    const retired = await s.mesh.weft(['ca', 'retire-roots']);
    assert.equal(retired.code, 0, retired.stderr);
    await waitFor('the old root is gone from both sidecars', async () => {
      const bundles = await Promise.all([sleep.proxy.ready.adminPort, httpbin.proxy.ready.adminPort].map((p) => secret(p, 'ROOTCA')));
      return bundles.every((b) => certificates(b).length === 1 && certificates(b)[0].serialNumber === newRoot.serialNumber);
    }, 20_000, 200);
    // New connections after the retirement handshake with the new root only.
    assert.ok((await presentedCertificate()).verify(newRoot.publicKey));
  })();
  const statuses = await steadyTraffic(run.catch(() => undefined));
  await run;
  assert.ok(statuses.length > 20, `traffic flowed (${statuses.length} requests)`);
  assert.deepEqual(statuses.filter((x) => x !== 200), [], 'no request failed during the root rotation');
});

test('after the old root is retired, a restarted control plane is trusted by proxies that only got the new root over SDS', async () => {
  // The proxies started with the first root in --xds-root-cert; since then ROOTCA told them the new one.
  await stopProcess(s.mesh.controlPlane, 'SIGKILL');
  await s.mesh.startControlPlane();
  await waitFor('both sidecars reconnected over TLS', async () => {
    const r = await s.mesh.weft(['proxy-status', '-o', 'json']);
    const ids = (JSON.parse(r.stdout) as { proxies: { id: string; types: { state: string }[] }[] }).proxies;
    return ids.length === 2 && ids.every((p) => p.types.length > 0 && p.types.every((t) => t.state === 'SYNCED'));
  }, 20_000, 200);
  assert.equal((await httpCall(sleep.outboundPort, '/', { host: 'httpbin:8000' })).status, 200);
});
