// Shared by the CA tests: stores in temp directories, a real mTLS handshake, openssl.
import { after } from 'node:test';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { openEmbeddedStore, type Store } from '../../../src/control-plane/store/index.ts';

/** Registers an after() hook in the calling test file that removes every directory handed out. */
export function tempDirs(): () => Promise<string> {
  const made: string[] = [];
  after(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-ca-'));
    made.push(dir);
    return dir;
  };
}

/** Registers after() hooks in the calling file; returns a function that opens a store in a new temp dir. */
export function storeFactory(): { newStore: () => Promise<Store>; openAt: (dir: string) => Promise<Store>; newDir: () => Promise<string> } {
  const open: Store[] = [];
  after(async () => { // registered first so that it runs before the directories are removed
    for (const store of open) await store.close().catch(() => {});
  });
  const newDir = tempDirs();
  const openAt = async (dir: string) => {
    const store = await openEmbeddedStore({ dataDir: dir });
    open.push(store);
    return store;
  };
  return { newStore: async () => openAt(await newDir()), openAt, newDir };
}

export interface TlsIdentity { certificateChainPem: string; privateKeyPem: string }

export interface HandshakeResult {
  /** The client certificate as the server saw it. */
  clientPeer: PeerCertificate;
  /** The server certificate as the client saw it. */
  serverPeer: PeerCertificate;
}

/**
 * A real mutual-TLS handshake over 127.0.0.1: each side presents its chain and verifies the other's
 * against its trust bundle. SPIFFE certificates carry no DNS name, so the client's host name check is
 * replaced by the caller's checkServerIdentity when given, else skipped (as a mesh proxy does, which
 * matches the URI SAN instead).
 */
export async function mtlsHandshake(options: {
  server: TlsIdentity; client: TlsIdentity; serverTrust: string; clientTrust: string;
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}): Promise<HandshakeResult> {
  const server = createServer({
    cert: options.server.certificateChainPem, key: options.server.privateKeyPem,
    ca: options.serverTrust, requestCert: true, rejectUnauthorized: true,
  });
  let clientPeer: PeerCertificate | undefined;
  server.on('secureConnection', (socket: TLSSocket) => {
    clientPeer = socket.getPeerCertificate();
    socket.end('hello');
  });
  const serverErrors: Error[] = [];
  server.on('tlsClientError', (err) => serverErrors.push(err));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const serverPeer = await new Promise<PeerCertificate>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1', port, cert: options.client.certificateChainPem, key: options.client.privateKeyPem,
        ca: options.clientTrust, checkServerIdentity: options.checkServerIdentity ?? (() => undefined),
      });
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => { received += chunk; });
      socket.on('error', (err) => reject(serverErrors[0] ?? err));
      socket.on('end', () => {
        socket.end();
        if (received === 'hello') resolve(socket.getPeerCertificate());
        else reject(serverErrors[0] ?? new Error('the server closed the connection without the greeting'));
      });
    });
    if (!clientPeer) throw new Error('the server saw no client certificate');
    return { clientPeer, serverPeer };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const execFileAsync = promisify(execFile);

export async function openssl(args: string[], cwd: string): Promise<string> {
  const { stdout } = await execFileAsync('openssl', args, { cwd });
  return stdout;
}

/** `openssl verify` of a leaf against a root file, with the rest of the chain as untrusted helpers. */
export async function opensslVerify(dir: string, rootPem: string, chainPem: string): Promise<string> {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  await writeFile(join(dir, 'root.pem'), rootPem);
  await writeFile(join(dir, 'leaf.pem'), blocks[0] + '\n');
  const args = ['verify', '-CAfile', 'root.pem'];
  if (blocks.length > 1) {
    await writeFile(join(dir, 'untrusted.pem'), blocks.slice(1).join('\n') + '\n');
    args.push('-untrusted', 'untrusted.pem');
  }
  return openssl([...args, 'leaf.pem'], dir);
}
