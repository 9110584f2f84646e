// TLS backends outside the mesh for the scenarios: one TLS server per name (a self-signed certificate
// for that name), each answering a connection with its name, and the ServiceEntries that make them
// services `NAME` on port 443 (protocol TLS) with their endpoint on 127.0.0.1.
import net from 'node:net';
import tls from 'node:tls';
import { makeCertificates, type TestCertificates } from '../../proxy/support/tls-certs.ts';

export interface TlsBackends {
  certs: TestCertificates;
  /** The CA bundle a client trusts: every backend's certificate. */
  ca: Buffer[];
  serviceEntries: string;
  close(): Promise<void>;
}

export async function startTlsBackends(names: string[]): Promise<TlsBackends> {
  const certs = await makeCertificates(names);
  const servers: tls.Server[] = [];
  const entries: string[] = [];
  for (const name of names) {
    const c = certs.certificates.get(name)!;
    const server = tls.createServer({ key: c.key, cert: c.cert }, (socket) => socket.end(`${name}\n`));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    entries.push(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: tls-${name.replaceAll('.', '-')}, namespace: default }
spec:
  hosts: [${name}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: tls, protocol: TLS }]
  endpoints: [{ address: 127.0.0.1, ports: { tls: ${port} } }]
`);
  }
  return {
    certs,
    ca: [...certs.certificates.values()].map((c) => c.cert),
    serviceEntries: entries.join('---\n'),
    close: async () => {
      for (const s of servers) s.close();
      await certs.remove();
    },
  };
}
