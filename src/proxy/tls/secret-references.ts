// The SDS side of resources as the xDS client holds them: which secrets a Cluster or a Listener refers
// to (to subscribe to them, like EDS follows clusters and RDS follows listeners), and a Secret as the
// config dump shows it (private keys redacted, as Envoy's /config_dump does).
type Resource = Record<string, unknown>;

const referenceFields = ['tls_certificate_sds_secret_configs', 'validation_context_sds_secret_config'];

/**
 * The names of every SdsSecretConfig anywhere in a resource: tls_certificate_sds_secret_configs and
 * validation_context_sds_secret_config (plain or in combined_validation_context), in transport sockets
 * of filter chains, clusters and transport_socket_matches. Resources reaching here were accepted.
 */
export function secretNamesOf(resource: Resource): string[] {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    for (const [key, v] of Object.entries(value as Resource)) {
      if (referenceFields.includes(key)) {
        for (const ref of Array.isArray(v) ? v : [v]) {
          const name = (ref as { name?: unknown } | null)?.name;
          if (typeof name === 'string' && name !== '') names.add(name);
        }
      } else {
        visit(v);
      }
    }
  };
  visit(resource);
  return [...names];
}

const redacted = '[redacted]';

/** A Secret for the config dump: the private key's inline data replaced by `[redacted]`, bytes as base64. */
export function redactSecret(secret: Resource): Resource {
  const certificate = secret.tls_certificate as Resource | undefined;
  const out: Resource = bytesAsBase64(secret) as Resource;
  if (certificate?.private_key !== undefined && certificate.private_key !== null) {
    const key = { ...(certificate.private_key as Resource) };
    for (const field of ['inline_string', 'inline_bytes']) if (key[field] !== undefined) key[field] = redacted;
    out.tls_certificate = { ...(out.tls_certificate as Resource), private_key: key };
  }
  return out;
}

/** A copy with Buffers (bytes fields) as base64 text, as protobuf's JSON mapping writes them. */
function bytesAsBase64(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(bytesAsBase64);
  if (value === null || typeof value !== 'object') return value;
  const out: Resource = {};
  for (const [k, v] of Object.entries(value as Resource)) out[k] = bytesAsBase64(v);
  return out;
}
