// Certificates for TLS tests, made with the openssl CLI into a temporary directory that the test
// removes in after(): no private key is ever written into the repository. Self-signed certificates
// (makeCertificates), or a test CA and leaf certificates it signed, with the SANs a test asks for
// (makeCertificateAuthority).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type TestCertificate = { commonName: string; key: Buffer; cert: Buffer };

export type TestCertificates = {
  certificates: Map<string, TestCertificate>;
  /** Removes the temporary directory. */
  remove(): Promise<void>;
};

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** One self-signed P-256 certificate per common name (also its DNS subjectAltName), valid one day. */
export async function makeCertificates(commonNames: string[]): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-tls-test-'));
  const certificates = new Map<string, TestCertificate>();
  try {
    for (const [i, commonName] of commonNames.entries()) {
      const keyPath = join(dir, `${i}.key`);
      const certPath = join(dir, `${i}.crt`);
      await run('openssl', [
        'req', '-x509', ...ecKey, '-days', '1',
        '-keyout', keyPath, '-out', certPath, '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName}`,
      ]);
      certificates.set(commonName, { commonName, key: await readFile(keyPath), cert: await readFile(certPath) });
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { certificates, remove: () => rm(dir, { recursive: true, force: true }) };
}

export type TestCertificateAuthority = {
  /** The CA certificate (PEM): what a trusted_ca holds. */
  caCert: Buffer;
  /** The temporary directory (files written there are removed with it). */
  dir: string;
  /**
   * A leaf certificate signed by this CA; `sans` as openssl writes them (`DNS:a.example`,
   * `URI:spiffe://cluster.local/ns/default/sa/a`); with `client`, usable as a client certificate.
   */
  issue(commonName: string, sans: string[], client?: boolean): Promise<TestCertificate>;
  remove(): Promise<void>;
};

/** A P-256 test CA valid one day. */
export async function makeCertificateAuthority(name = 'Weft Test CA'): Promise<TestCertificateAuthority> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-tls-ca-'));
  const caKey = join(dir, 'ca.key');
  const caCrt = join(dir, 'ca.crt');
  let serial = 0;
  try {
    await run('openssl', [
      'req', '-x509', ...ecKey, '-days', '1', '-keyout', caKey, '-out', caCrt, '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const caCert = await readFile(caCrt);
  return {
    caCert,
    dir,
    async issue(commonName, sans, client = false) {
      const n = ++serial;
      const key = join(dir, `${n}.key`);
      const csr = join(dir, `${n}.csr`);
      const crt = join(dir, `${n}.crt`);
      const ext = join(dir, `${n}.ext`);
      await writeFile(ext, [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        `extendedKeyUsage=${client ? 'clientAuth,serverAuth' : 'serverAuth'}`,
        ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
      ].join('\n'));
      await run('openssl', ['req', '-new', ...ecKey, '-keyout', key, '-out', csr, '-subj', `/CN=${commonName}`]);
      await run('openssl', [
        'x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-set_serial', String(1000 + n), '-days', '1',
        '-extfile', ext, '-out', crt,
      ]);
      return { commonName, key: await readFile(key), cert: await readFile(crt) };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
