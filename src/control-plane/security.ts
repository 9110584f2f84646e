// The control plane's security wiring: the certificate authority (created in the store on first start,
// or the operator's plugged-in CA), workload certificates for proxies, workload tokens, the check a
// proxy's ADS stream passes before it gets any config or certificate, and the xDS server's own TLS.
import { parseDuration } from '../api/index.ts';
import { readFlagFile, UsageError } from '../common/args.ts';
import type { Logger } from '../common/log.ts';
import { decodeProxyMetadata } from '../xds/node-metadata.ts';
import type { Struct } from '../xds/struct.ts';
import { CertificateAuthority, TokenAuthority, WorkloadCertificates, type KeyAlgorithm } from './ca/index.ts';
import { ProxySecrets } from './proxy-secrets.ts';
import type { ProxyAuthenticator } from './server/ads-server.ts';
import type { Store } from './store/index.ts';

export interface Security {
  ca: CertificateAuthority;
  tokens: TokenAuthority;
  certificates: WorkloadCertificates;
  secrets: ProxySecrets;
  close(): void;
}

export interface SecurityFlags {
  'ca-cert'?: string;
  'ca-key'?: string;
  'ca-chain'?: string;
  'ca-key-algorithm'?: string;
  'root-cert-ttl'?: string;
  'workload-cert-ttl'?: string;
}

/** How long proxies get to apply a new trust bundle before certificates of a new root reach them. */
const bundleFirstDelayMs = 2000;

const keyAlgorithms: readonly KeyAlgorithm[] = ['EC-P256', 'RSA-2048', 'RSA-3072', 'RSA-4096'];

function durationFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new UsageError(`${flag}: expected a positive duration such as 24h, got ${JSON.stringify(value)}`);
  return ms;
}

export async function startSecurity(store: Store, trustDomain: string, flags: SecurityFlags, log: Logger): Promise<Security> {
  const algorithm = flags['ca-key-algorithm'];
  if (algorithm !== undefined && !keyAlgorithms.includes(algorithm as KeyAlgorithm)) {
    throw new UsageError(`--ca-key-algorithm: expected one of ${keyAlgorithms.join(', ')}, got ${JSON.stringify(algorithm)}`);
  }
  if ((flags['ca-cert'] === undefined) !== (flags['ca-key'] === undefined)) throw new UsageError('--ca-cert and --ca-key go together');
  if (flags['ca-chain'] !== undefined && flags['ca-cert'] === undefined) throw new UsageError('--ca-chain needs --ca-cert and --ca-key');
  const plugged = flags['ca-cert'] !== undefined && flags['ca-key'] !== undefined
    ? {
      certPem: await readFlagFile(flags['ca-cert'], '--ca-cert'),
      keyPem: await readFlagFile(flags['ca-key'], '--ca-key'),
      ...(flags['ca-chain'] !== undefined ? { chainPem: await readFlagFile(flags['ca-chain'], '--ca-chain') } : {}),
    }
    : undefined;
  const rootLifetimeMs = durationFlag(flags['root-cert-ttl'], '--root-cert-ttl');
  const ttlMs = durationFlag(flags['workload-cert-ttl'], '--workload-cert-ttl');
  let ca: CertificateAuthority;
  try {
    ca = await CertificateAuthority.open(store, {
      trustDomain,
      ...(rootLifetimeMs !== undefined ? { rootLifetimeMs } : {}),
      ...(algorithm !== undefined ? { keyAlgorithm: algorithm as KeyAlgorithm } : {}),
      ...(plugged ? { plugged } : {}),
    });
  } catch (err) {
    if (plugged) throw new UsageError(`--ca-cert/--ca-key: ${(err as Error).message}`);
    throw err;
  }
  const tokens = await TokenAuthority.open(store, { trustDomain });
  const caLog = log.child({ module: 'ca' });
  const certificates = new WorkloadCertificates(ca, {
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    // Called from a timer, after `secrets` exists.
    onRotated: (identity) => secrets.refresh(identity),
  });
  const secrets = new ProxySecrets(ca, certificates, caLog);
  // A root change reaches proxies in two steps: first the new trust bundle (with the certificates they
  // have), then, a moment later, certificates of the new root, so that no proxy receives a peer
  // certificate its trust bundle does not cover yet.
  let reissue: NodeJS.Timeout | undefined;
  const unwatch = ca.onChange(() => {
    caLog.info('trust bundle or signing root changed; pushing it, then re-issuing workload certificates');
    secrets.changed();
    if (reissue) clearTimeout(reissue);
    reissue = setTimeout(() => {
      certificates.reissueAll().catch((err: unknown) => caLog.error('re-issuing workload certificates failed', { error: String(err) }));
    }, bundleFirstDelayMs);
    reissue.unref();
  });
  caLog.info('certificate authority ready', { trustDomain, plugged: plugged !== undefined });
  // Records of expired tokens (issued and revoked) are dropped hourly: an expired token fails anyway.
  const prune = setInterval(() => {
    tokens.pruneExpired().catch((err: unknown) => caLog.warn('pruning expired tokens failed', { error: String(err) }));
  }, 3600_000);
  prune.unref();
  return {
    ca, tokens, certificates, secrets,
    close() {
      clearInterval(prune);
      if (reissue) clearTimeout(reissue);
      unwatch();
      certificates.close();
      ca.close();
    },
  };
}

/**
 * A proxy gets config and certificates only with a valid token (when tokens are required), and only
 * for the namespace its token names: the token's identity is the proxy's identity.
 */
export function proxyAuthenticator(tokens: TokenAuthority, requireTokens: boolean): ProxyAuthenticator {
  return async (token, node) => {
    if (token === undefined) {
      return requireTokens
        ? { ok: false, reason: 'no token: this control plane requires one (create it with `weft token create`, give it to the proxy with --token-file or WEFT_TOKEN)' }
        : { ok: true };
    }
    const result = await tokens.verify(token);
    if (!result.ok) return { ok: false, reason: `invalid token: ${result.reason}` };
    const claimed = decodeProxyMetadata(node.metadata as Struct | undefined);
    if (claimed.namespace !== result.claims.namespace) {
      return { ok: false, reason: `the token is for namespace ${result.claims.namespace}, but the proxy says it runs in ${claimed.namespace}` };
    }
    return { ok: true, identity: { namespace: result.claims.namespace, serviceAccount: result.claims.serviceAccount }, tokenId: result.claims.id, expiresAt: result.claims.expiresAt };
  };
}
