// The rig behind the AuthorizationPolicy semantics table: Istio YAML goes through the control plane's
// security generator, the filters it returns go (over the Envoy protos, as on the wire) into a
// workload's inbound listeners in an in-process data plane, and real clients, plaintext or mTLS with
// a SPIFFE certificate, send traffic through them to an HTTP upstream and a TCP echo upstream.
//
// The inbound listeners are shaped as the generator's listeners.ts shapes a PERMISSIVE port:
// tls_inspector, an mTLS chain whose transport socket comes from the generator (certificates over
// SDS: `default` and `ROOTCA`), and a plaintext chain.
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { AuthorizationPolicy, RequestAuthentication } from '../../../src/api/index.ts';
import { parseManifests } from '../../../src/api/index.ts';
import { defaultMeshConfig, type MeshSnapshot } from '../../../src/control-plane/registry/model.ts';
import {
  inboundSecurityFilters, pathNormalizationOptions, type SecurityFilters,
} from '../../../src/control-plane/generate/security/index.ts';
import { forInboundPort } from '../../../src/control-plane/generate/security/destination-ports.ts';
import { inboundMtlsTransportSocket } from '../../../src/control-plane/generate/mtls.ts';
import { loadEnvoyProtos } from '../../../src/xds/protos.ts';
import { TypeUrl } from '../../../src/xds/type-urls.ts';
import { protoProblems } from '../../control-plane/generate/security/envoy-proto-check.ts';
import { send } from '../../proxy/support/client.ts';
import { Harness } from '../../proxy/support/harness.ts';
import { signingKey, token, jwks, now } from '../../proxy/support/jwt.ts';
import { freePort } from '../../proxy/support/rbac-resources.ts';
import { staticCluster } from '../../proxy/support/resources.ts';
import { certificateSecret, rootSecret } from '../../proxy/support/sds-resources.ts';
import { startTcpUpstream, type TcpUpstream } from '../../proxy/support/tcp-upstream.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from '../../proxy/support/tls-certs.ts';
import { startUpstream, type Upstream } from '../../proxy/support/upstream.ts';

type Obj = Record<string, unknown>;

/** The workload's ports as policies name them (service port = application port here). */
export const httpWorkloadPort = 8000;
export const tcpWorkloadPort = 9000;
export const workload = { namespace: 'foo', labels: { app: 'httpbin' } };
export const jwtIssuer = 'testing@secure.istio.io';
export const defaultHost = 'httpbin.foo.svc.cluster.local';

/** Who the client is: plaintext (no identity), or an mTLS client with a SPIFFE certificate. */
export type Identity = 'plaintext' | 'sleep' | 'other';
export const identities: Record<Exclude<Identity, 'plaintext'>, string> = {
  sleep: 'spiffe://cluster.local/ns/foo/sa/sleep',
  other: 'spiffe://cluster.local/ns/bar/sa/other',
};

/** Tokens the table can send (made with jose at start). */
export type TokenName = 'alice' | 'bob' | 'untrusted' | 'expired';

export interface HttpProbe {
  as?: Identity;
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  /** TLS server name (mTLS clients only). */
  sni?: string;
  token?: TokenName;
  expect: 200 | 401 | 403;
}

export interface TcpProbe {
  as?: Identity;
  expect: 'allowed' | 'closed';
}

const listenerType = 'envoy.config.listener.v3.Listener';
const tlsInspector = { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TypeUrl.TlsInspector } };
const router = { name: 'envoy.filters.http.router', typed_config: { '@type': TypeUrl.Router } };
const httpCluster = `inbound|${httpWorkloadPort}||`;
const tcpCluster = `inbound|${tcpWorkloadPort}||`;

/** A listener as the proxy's xDS client hands it over: encoded with Envoy's proto and decoded again. */
function overTheWire(listener: Obj): Obj {
  const type = loadEnvoyProtos().definition[listenerType] as unknown as { serialize(v: unknown): Buffer; deserialize(b: Buffer): Obj };
  return type.deserialize(type.serialize(listener));
}

function inboundListener(name: string, port: number, http: boolean, filters: unknown[]): Obj {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: port } },
    traffic_direction: 'INBOUND',
    listener_filters: [tlsInspector],
    filter_chains: [
      { name: `${name}|mtls`, filter_chain_match: { transport_protocol: 'tls' }, transport_socket: inboundMtlsTransportSocket(http), filters },
      { name: `${name}|plaintext`, filter_chain_match: { transport_protocol: 'raw_buffer' }, filters },
    ],
  };
}

export class PolicyTable {
  readonly harness = new Harness();
  private upstream!: Upstream;
  private echo!: TcpUpstream;
  private ca!: TestCertificateAuthority;
  private clientCerts = new Map<Identity, TestCertificate>();
  private tokens = new Map<TokenName, string>();
  private jwksText = '';
  httpPort = 0;
  tcpPort = 0;

  async start(): Promise<void> {
    this.upstream = await startUpstream('httpbin');
    this.echo = await startTcpUpstream('tcp-echo');
    this.ca = await makeCertificateAuthority();
    const server = await this.ca.issue('httpbin', ['URI:spiffe://cluster.local/ns/foo/sa/httpbin'], true);
    for (const [who, id] of Object.entries(identities)) {
      this.clientCerts.set(who as Identity, await this.ca.issue(who, [`URI:${id}`], true));
    }
    const key = await signingKey('ES256', 'table');
    const stranger = await signingKey('ES256', 'table'); // same kid, key not in the JWKS
    this.jwksText = jwks(key.jwk);
    const common = { iss: jwtIssuer, exp: now() + 3600 };
    this.tokens.set('alice', await token(key, { ...common, sub: 'alice', aud: ['httpbin', 'web'], azp: 'frontend', group: 'admins', roles: ['reader', 'writer'], scope: 'read write', org: { team: 'blue' } }));
    this.tokens.set('bob', await token(key, { ...common, sub: 'bob', aud: 'mobile-app', azp: 'mobile', group: 'users', roles: ['reader'], scope: 'read', org: { team: 'red' } }));
    this.tokens.set('untrusted', await token(stranger, { ...common, sub: 'alice', aud: 'httpbin' }));
    this.tokens.set('expired', await token(key, { iss: jwtIssuer, sub: 'alice', exp: now() - 3600 }));
    this.httpPort = await freePort();
    this.tcpPort = await freePort();
    await this.harness.apply({
      secrets: [certificateSecret('default', server, true), rootSecret('ROOTCA', [this.ca.caCert], true)],
      clusters: [staticCluster(httpCluster, [this.upstream.port]), staticCluster(tcpCluster, [this.echo.port])],
    });
  }

  async close(): Promise<void> {
    await this.harness.close();
    await this.upstream?.close();
    await this.echo?.close();
    await this.ca?.remove();
  }

  /** The RequestAuthentication for httpbin with the table's key set inline (as `jwks`). */
  requestAuthenticationYaml(): string {
    return `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  jwtRules:
  - issuer: ${JSON.stringify(jwtIssuer)}
    jwks: ${JSON.stringify(this.jwksText)}
`;
  }

  /** Parses and validates the YAML as a user's, and runs the security generator for httpbin. */
  generate(yaml: string): SecurityFilters {
    const { resources, errors } = parseManifests(yaml, { source: 'table' });
    assert.deepEqual(errors.map((e) => e.message), [], 'the policies must be valid Istio YAML');
    const mesh: MeshSnapshot = {
      config: { ...defaultMeshConfig },
      services: [],
      virtualServices: [],
      destinationRules: [],
      authorizationPolicies: resources.filter((r): r is AuthorizationPolicy => r.kind === 'AuthorizationPolicy'),
      requestAuthentications: resources.filter((r): r is RequestAuthentication => r.kind === 'RequestAuthentication'),
    };
    const out = inboundSecurityFilters(mesh, workload);
    for (const f of [...out.http, ...out.network]) {
      assert.deepEqual(protoProblems(f.typed_config), [], `${f.name} must be valid Envoy config`);
    }
    return out;
  }

  /** Puts the generated filters into the inbound listeners (HTTP on httpPort, TCP on tcpPort). */
  async install(generated: SecurityFilters): Promise<void> {
    // Policies name the workload's ports; connections arrive on the sidecar's (listeners.ts does the same).
    const httpFilters = forInboundPort(generated.http, new Map([[httpWorkloadPort, this.httpPort]]));
    const networkFilters = forInboundPort(generated.network, new Map([[tcpWorkloadPort, this.tcpPort]]));
    const httpName = httpCluster;
    const hcm = {
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {
        '@type': TypeUrl.HttpConnectionManager,
        stat_prefix: httpName,
        route_config: {
          name: httpName,
          virtual_hosts: [{
            name: `inbound|http|${httpWorkloadPort}`, domains: ['*'],
            routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: httpCluster, timeout: { seconds: 0 } } }],
          }],
        },
        ...pathNormalizationOptions(undefined),
        http_filters: [...httpFilters, router],
      },
    };
    const tcpProxy = { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TypeUrl.TcpProxy, stat_prefix: tcpCluster, cluster: tcpCluster } };
    await this.harness.dataPlane.updateListeners([
      overTheWire(inboundListener(httpCluster, this.httpPort, true, [hcm])),
      overTheWire(inboundListener(tcpCluster, this.tcpPort, false, [...networkFilters, tcpProxy])),
    ]);
  }

  /** An HTTP RBAC counter of the HTTP listener's connection manager (0 before its first count). */
  async httpRbacCounter(counter: string, rbacPrefix: string): Promise<number> {
    const labels = { envoy_http_conn_manager_prefix: httpCluster, envoy_rbac_prefix: rbacPrefix };
    return (await this.harness.metric(`envoy_http_rbac_${counter}`, labels)) ?? 0;
  }

  /** Sends one HTTP/1.1 request to the HTTP listener; the status and body of the answer. */
  async http(probe: HttpProbe): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { host: probe.host ?? defaultHost, ...probe.headers };
    if (probe.token) headers.authorization = `Bearer ${this.tokens.get(probe.token)}`;
    const method = probe.method ?? 'GET';
    const path = probe.path ?? '/';
    const as = probe.as ?? 'plaintext';
    if (as === 'plaintext') {
      const reply = await send(this.httpPort, path, { method, headers });
      return { status: reply.status, body: reply.body };
    }
    const cert = this.clientCerts.get(as)!;
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1', port: this.httpPort, method, path, headers, agent: false,
        servername: probe.sni ?? 'outbound_.8000_._.httpbin.foo.svc.cluster.local',
        ca: this.ca.caCert, cert: cert.cert, key: cert.key, checkServerIdentity: () => undefined,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Opens a connection to the TCP listener: allowed when the echo upstream's greeting arrives. */
  tcp(probe: TcpProbe): Promise<'allowed' | 'closed'> {
    const as = probe.as ?? 'plaintext';
    return new Promise((resolve) => {
      const cert = this.clientCerts.get(as);
      const socket = cert
        ? tls.connect({ host: '127.0.0.1', port: this.tcpPort, servername: 'outbound_.9000_._.tcp-echo.foo.svc.cluster.local', ca: this.ca.caCert, cert: cert.cert, key: cert.key, checkServerIdentity: () => undefined })
        // A plaintext client speaks first: the PERMISSIVE port's tls_inspector needs a first byte to
        // tell plaintext from TLS (as in Istio, server-first protocols need STRICT or DISABLE).
        : net.connect(this.tcpPort, '127.0.0.1', () => socket.write('hello\n'));
      let data = '';
      let settled = false;
      const finish = (value: 'allowed' | 'closed') => {
        if (settled) return;
        settled = true;
        socket.destroy();
        resolve(value);
      };
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
        if (data.includes('\n')) finish(data.startsWith('tcp-echo') ? 'allowed' : 'closed');
      });
      socket.on('error', () => finish('closed'));
      socket.on('close', () => finish('closed'));
    });
  }
}
