// Certificates for the HAProxy mTLS pair, made at run time with openssl: a root, a server certificate
// (DNS name upstream.bench) and a client certificate, all ECDSA P-256 as Weft's workload certificates are.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certificates {
  dir: string;
  /** The root that signed both certificates. */
  caFile: string;
  /** Certificate and key in one PEM file, as HAProxy's `crt` wants them. */
  serverPem: string;
  clientPem: string;
  /** The name the server certificate carries and the client verifies. */
  serverName: string;
}

const serverName = 'upstream.bench';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

async function leaf(dir: string, name: string, subject: string, extensions: string): Promise<string> {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  await writeFile(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
  const pem = join(dir, `${name}.pem`);
  await writeFile(pem, (await readFile(join(dir, `${name}.crt`), 'utf8')) + (await readFile(join(dir, `${name}.key`), 'utf8')));
  return pem;
}

export async function makeCertificates(): Promise<Certificates> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-bench-certs-'));
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  openssl(dir, ['req', '-new', '-x509', '-key', 'ca.key', '-subj', '/CN=bench root', '-days', '2', '-sha256', '-out', 'ca.crt']);
  const serverPem = await leaf(dir, 'server', `/CN=${serverName}`,
    `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`);
  const clientPem = await leaf(dir, 'client', '/CN=bench client',
    'subjectAltName=URI:spiffe://bench/client\nextendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n');
  return { dir, caFile: join(dir, 'ca.crt'), serverPem, clientPem, serverName };
}
