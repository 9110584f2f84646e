// The mesh config the control plane runs with: Istio's MeshConfig YAML (--mesh-config) over Weft's
// defaults. Errors stop the start with the file, field and reason; fields Weft does not use are logged.
import { parseMeshConfig } from '../api/mesh-config.ts';
import { readFlagFile, UsageError } from '../common/args.ts';
import type { Logger } from '../common/log.ts';
import { defaultMeshConfig, type MeshConfig } from './registry/model.ts';

export async function loadMeshConfig(path: string | undefined, log: Logger): Promise<MeshConfig> {
  const config: MeshConfig = { ...defaultMeshConfig };
  if (path === undefined) return config;
  const text = await readFlagFile(path, '--mesh-config');
  const parsed = parseMeshConfig(text, path);
  if (parsed.errors.length > 0) throw new UsageError(`--mesh-config ${path}:\n${parsed.errors.map((e) => `  ${formatError(e)}`).join('\n')}`);
  for (const warning of parsed.warnings) log.warn('mesh config', { file: path, warning });
  const m = parsed.config;
  if (m.trustDomain !== undefined) config.trustDomain = m.trustDomain;
  if (m.trustDomainAliases !== undefined) config.trustDomainAliases = m.trustDomainAliases;
  if (m.rootNamespace !== undefined) config.rootNamespace = m.rootNamespace;
  if (m.extensionProviders !== undefined) config.extensionProviders = m.extensionProviders;
  if (m.pathNormalization !== undefined) config.pathNormalization = m.pathNormalization;
  for (const k of ['accessLogFile', 'accessLogEncoding', 'accessLogFormat', 'enableTracing', 'tracing', 'defaultProviders'] as const) {
    if (m[k] !== undefined) Object.assign(config, { [k]: m[k] });
  }
  return config;
}

function formatError(e: unknown): string {
  if (typeof e === 'string') return e;
  const o = e as { path?: string; message?: string };
  return o.path ? `${o.path}: ${o.message ?? ''}` : (o.message ?? JSON.stringify(e));
}
