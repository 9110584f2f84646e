// How the proxy reaches its control plane: TLS (verifying the control plane's certificate against the
// mesh trust bundle, --xds-root-cert) unless --plaintext-xds, and a workload token (--token-file or
// WEFT_TOKEN) sent as a bearer token on the ADS stream. The token's claims (read, not verified: the
// control plane verifies) give the proxy's namespace and service account when the flags do not.
import { existsSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { UsageError } from '../common/args.ts';

export interface XdsCredentialOptions {
  rootCertFile: string | undefined;
  plaintext: boolean;
  tokenFile: string | undefined;
  tokenEnv: string | undefined;
}

export interface XdsCredentials {
  credentials: grpc.ChannelCredentials;
  callMetadata: (() => grpc.Metadata) | undefined;
  token: { namespace?: string; serviceAccount?: string } | undefined;
  tls: boolean;
}

/** Where `weft control-plane` writes its trust bundle by default (its data directory is ./.weft). */
export const defaultRootCertFile = '.weft/root-cert.pem';

function readFlagFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}

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

export function xdsCredentials(options: XdsCredentialOptions): XdsCredentials {
  let credentials: grpc.ChannelCredentials;
  let tls = false;
  if (options.plaintext) {
    if (options.rootCertFile !== undefined) throw new UsageError('--xds-root-cert and --plaintext-xds contradict each other');
    credentials = grpc.credentials.createInsecure();
  } else {
    const file = options.rootCertFile ?? (existsSync(defaultRootCertFile) ? defaultRootCertFile : undefined);
    if (file === undefined) {
      throw new UsageError(`no trust bundle for the control plane's certificate: pass --xds-root-cert FILE (the control plane writes DATA-DIR/root-cert.pem; \`weft ca root\` prints it), or --plaintext-xds for a control plane started with --plaintext-xds or --demo`);
    }
    credentials = grpc.credentials.createSsl(Buffer.from(readFlagFile(file, '--xds-root-cert')));
    tls = true;
  }
  const raw = options.tokenFile !== undefined ? readFlagFile(options.tokenFile, '--token-file') : options.tokenEnv;
  const token = raw?.trim();
  if (token === undefined || token === '') return { credentials, callMetadata: undefined, token: undefined, tls };
  const claims = tokenClaims(token);
  return {
    credentials,
    callMetadata: () => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${token}`);
      return md;
    },
    token: claims,
    tls,
  };
}
