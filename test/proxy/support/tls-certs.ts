// Self-signed certificates for TLS tests, made with the openssl CLI into a temporary directory that
// the test removes in after(): no private key is ever written into the repository.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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

/** One self-signed P-256 certificate per common name (also its DNS subjectAltName), valid one day. */
export async function makeCertificates(commonNames: string[]): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-tls-test-'));
  const certificates = new Map<string, TestCertificate>();
  try {
    for (const [i, commonName] of commonNames.entries()) {
      const keyPath = join(dir, `${i}.key`);
      const certPath = join(dir, `${i}.crt`);
      await run('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
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
