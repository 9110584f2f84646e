// How the proxy reaches its control plane: TLS (verifying the control plane's certificate against the
// mesh trust bundle: --xds-root-cert at start, then the ROOTCA secret the control plane sends, so a
// root rotation reaches the xDS connection too) unless --plaintext-xds, and a workload token (--token-file or
// WEFT_TOKEN) sent as a bearer token on the ADS stream. The token's claims (read, not verified: the
// control plane verifies) give the proxy's namespace and service account when the flags do not.
import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { readFlagFile, UsageError } from '../common/args.ts';

export interface XdsCredentialOptions {
  rootCertFile: string | undefined;
  plaintext: boolean;
  tokenFile: string | undefined;
  tokenEnv: string | undefined;
}

/**
 * The roots the proxy verifies the control plane with, as a grpc-js certificate provider: the file at
 * start, replaced by each ROOTCA bundle the control plane sends (reconnections use the newest).
 */
export class XdsTrust implements grpc.experimental.CertificateProvider {
  private roots: Buffer;
  private readonly listeners = new Set<grpc.experimental.CaCertificateUpdateListener>();

  constructor(initial: Buffer) {
    this.roots = initial;
  }

  update(roots: Buffer): void {
    if (roots.equals(this.roots)) return;
    this.roots = roots;
    for (const l of this.listeners) l({ caCertificate: roots });
  }

  /** Delivers the current roots on the next tick, once grpc-js has finished registering. */
  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.listeners.add(listener);
    queueMicrotask(() => {
      if (this.listeners.has(listener)) listener({ caCertificate: this.roots });
    });
  }

  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.listeners.delete(listener);
  }

  addIdentityCertificateListener(): void {}

  removeIdentityCertificateListener(): void {}
}

export interface XdsCredentials {
  credentials: grpc.ChannelCredentials;
  /** The trust the TLS credentials verify with (null: plaintext). */
  trust: XdsTrust | null;
  callMetadata: (() => grpc.Metadata) | undefined;
  token: { namespace?: string; serviceAccount?: string } | undefined;
  tls: boolean;
}

/** Where `weft control-plane` writes its trust bundle by default (its data directory is ./.weft). */
export const defaultRootCertFile = '.weft/root-cert.pem';

function tokenClaims(token: string): { namespace?: string; serviceAccount?: string } {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new UsageError('the workload token is malformed (not a JWT); create one with `weft token create`');
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const namespace = str(claims.namespace) ?? str(claims.ns);
    const serviceAccount = str(claims.serviceAccount) ?? str(claims.sa);
    return { ...(namespace ? { namespace } : {}), ...(serviceAccount ? { serviceAccount } : {}) };
  } catch {
    throw new UsageError('the workload token is malformed (its payload is not JSON); create one with `weft token create`');
  }
}

export async function xdsCredentials(options: XdsCredentialOptions): Promise<XdsCredentials> {
  let credentials: grpc.ChannelCredentials;
  let tls = false;
  let trust: XdsTrust | null = null;
  if (options.plaintext) {
    if (options.rootCertFile !== undefined) throw new UsageError('--xds-root-cert and --plaintext-xds contradict each other');
    credentials = grpc.credentials.createInsecure();
  } else {
    const file = options.rootCertFile ?? (existsSync(defaultRootCertFile) ? defaultRootCertFile : undefined);
    if (file === undefined) {
      throw new UsageError(`no trust bundle for the control plane's certificate: pass --xds-root-cert FILE (the control plane writes DATA-DIR/root-cert.pem; \`weft ca root\` prints it), or --plaintext-xds for a control plane started with --plaintext-xds or --demo`);
    }
    trust = new XdsTrust(Buffer.from(await readFlagFile(file, '--xds-root-cert')));
    credentials = grpc.experimental.createCertificateProviderChannelCredentials(trust, null, {});
    tls = true;
  }
  const raw = options.tokenFile !== undefined ? await readFlagFile(options.tokenFile, '--token-file') : options.tokenEnv;
  const token = raw?.trim();
  if (token === undefined || token === '') return { credentials, trust, callMetadata: undefined, token: undefined, tls };
  const claims = tokenClaims(token);
  return {
    credentials,
    trust,
    callMetadata: () => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${token}`);
      return md;
    },
    token: claims,
    tls,
  };
}
