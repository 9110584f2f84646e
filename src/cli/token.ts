// `weft token create|list|revoke`: workload tokens, with which a proxy outside Kubernetes proves who it is.
import { parseFlags, UsageError } from '../common/args.ts';
import { call, serverFlag, serverHelp } from './client.ts';
import { table } from './table.ts';

export const usage = `Usage: weft token create --namespace NS --service-account SA [--ttl DURATION]
       weft token list
       weft token revoke ID

A workload token names a namespace and a service account. A proxy presents it to the control plane
(weft proxy --token-file FILE, or WEFT_TOKEN); the control plane then serves it config and a
certificate for spiffe://<trust-domain>/ns/NS/sa/SA. Without a valid token a proxy gets nothing
(unless the control plane runs with --no-require-tokens). A revoked token stops working at once.

Flags:
  -n, --namespace NS        the workload's namespace (create)
  --service-account SA      the workload's service account (create; default default)
  --ttl DURATION            lifetime, e.g. 24h or 8760h (default 8760h; 0s: no expiry)
  -o, --output FORMAT       create: token (default: only the token, for a file) or json
${serverHelp}`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, {
    namespace: { type: 'string', short: 'n' },
    'service-account': { type: 'string' },
    ttl: { type: 'string' },
    output: { type: 'string', short: 'o' },
    ...serverFlag,
  }, usage, true);
  const [action, ...rest] = positionals;
  if (action === 'create' && rest.length === 0) {
    if (!values.namespace) throw new UsageError(`token create: --namespace is required\n\n${usage}`);
    const body = JSON.stringify({ namespace: values.namespace, serviceAccount: values['service-account'] ?? 'default', ...(values.ttl ? { ttl: values.ttl } : {}) });
    const created = await call(values.server, 'POST', '/tokens', body, 'application/json');
    if (values.output === 'json') process.stdout.write(JSON.stringify(created, null, 2) + '\n');
    else if (values.output === undefined || values.output === 'token') process.stdout.write(created.token + '\n');
    else throw new UsageError(`token create: -o must be token or json, got ${JSON.stringify(values.output)}`);
    return;
  }
  if (action === 'list' && rest.length === 0) {
    const { tokens } = await call(values.server, 'GET', '/tokens');
    process.stdout.write(table(['ID', 'NAMESPACE', 'SERVICE ACCOUNT', 'ISSUED', 'EXPIRES', 'REVOKED'], (tokens as Record<string, unknown>[]).map((t) => [
      String(t.id ?? ''), String(t.namespace ?? ''), String(t.serviceAccount ?? ''), String(t.issuedAt ?? ''), String(t.expiresAt ?? 'never'), t.revoked ? 'yes' : '',
    ])));
    return;
  }
  if (action === 'revoke' && rest.length === 1) {
    const r = await call(values.server, 'DELETE', `/tokens/${encodeURIComponent(rest[0])}`);
    process.stdout.write(`token ${rest[0]} revoked${r.disconnected ? `; ${r.disconnected} proxy stream(s) using it closed` : ''}\n`);
    return;
  }
  throw new UsageError(usage);
}
