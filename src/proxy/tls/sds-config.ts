// envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig: a TLS context names a secret (`default`:
// the workload's certificate and key, `ROOTCA`: the trust bundle, as Istio names them) that arrives as
// a Secret resource over the same ADS stream as the rest of the config. Only `sds_config: { ads: {} }`
// is followed: a secret from another server (api_config_source), a file (path, path_config_source) or
// the bootstrap's static secrets (no sds_config) cannot be fetched by this proxy, so it rejects them.
import { FieldPath, checkFields, isPresent, message, requiredString } from '../upstream/envoy-config.ts';

const sdsSecretConfigFields = new Set(['name', 'sds_config']);
// initial_fetch_timeout only bounds Envoy's warming; a missing secret here fails the connections that need it.
const configSourceFields = new Set(['ads', 'resource_api_version', 'initial_fetch_timeout']);
const otherSources: Record<string, string> = {
  api_config_source: 'is not supported: secrets are fetched over the ADS stream only (sds_config: { ads: {} })',
  path: 'is not supported: secrets are fetched over the ADS stream only (sds_config: { ads: {} })',
  path_config_source: 'is not supported: secrets are fetched over the ADS stream only (sds_config: { ads: {} })',
  self: 'is not supported: secrets are fetched over the ADS stream only (sds_config: { ads: {} })',
};

/** The name of the secret an SdsSecretConfig refers to. */
export function compileSdsSecretConfig(at: FieldPath, value: unknown): string {
  const sds = message(at, value);
  checkFields(at, sds, sdsSecretConfigFields);
  const name = requiredString(at.field('name'), sds.name);
  const sp = at.field('sds_config');
  if (!isPresent(sds.sds_config)) sp.reject(`is required: static secrets are not supported, secret ${name} must come over ADS (sds_config: { ads: {} })`);
  const source = message(sp, sds.sds_config);
  for (const [field, reason] of Object.entries(otherSources)) if (isPresent(source[field])) sp.field(field).reject(reason);
  checkFields(sp, source, configSourceFields);
  if (!isPresent(source.ads)) sp.reject('must set ads: secrets are fetched over the ADS stream only');
  const version = source.resource_api_version;
  if (isPresent(version) && version !== 'V3' && version !== 2) sp.field('resource_api_version').reject(`${String(version)} is not supported (V3 is)`);
  return name;
}
