// Istio's MeshConfig as operators write it: the YAML under the `mesh` key of the istio ConfigMap
// (or the whole ConfigMap). Weft acts on trustDomain, trustDomainAliases, rootNamespace,
// extensionProviders, pathNormalization and the observability fields (mesh-observability.ts), which
// are validated; every other MeshConfig field is
// accepted (so an existing Istio mesh config loads) and reported as a warning; anything else is an
// error naming its path. No I/O: the caller reads the file.

import { withoutNulls } from './validate.ts';
import { parseAllDocuments, type YAMLError } from 'yaml';
import { apiError, type ApiError } from './errors.ts';
import {
  array, boolean, duration, enumOf, integer, isPlainObject, object, string, tolerated,
  type Context, type Fields, type Problem, type Schema,
} from './schema.ts';
import { isIstioDnsLabel, namespaceProblem } from './names.ts';
import { extensionProviders, otherProviderWarnings, portNumberOf } from './mesh-extension-providers.ts';
import type { ExtensionProvider, PathNormalization } from './kinds/security-types.ts';
import { OBSERVABILITY_FIELDS, readObservability, type ObservabilitySettings, type ObservabilityYaml } from './mesh-observability.ts';

/** Istio's defaults, for fields a mesh config leaves unset. */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_ROOT_NAMESPACE = 'istio-system';

export interface MeshConfigFile extends ObservabilitySettings {
  trustDomain?: string;
  trustDomainAliases?: string[];
  /** The namespace whose policies (PeerAuthentication, AuthorizationPolicy, ...) apply mesh-wide. */
  rootNamespace?: string;
  extensionProviders?: ExtensionProvider[];
  /** pathNormalization.normalization; Istio's DEFAULT is read as BASE (what it means today). */
  pathNormalization?: PathNormalization;
  /** The other MeshConfig fields that were set, as written; Weft does not act on them. */
  ignored?: Record<string, unknown>;
}

export interface MeshConfigResult {
  config: MeshConfigFile;
  /** Errors name the field path; when there are any, `config` holds only what was valid to read. */
  errors: ApiError[];
  /** Fields accepted but not acted on, and loosely checked providers that could not be used. */
  warnings: string[];
}

/** A trust domain: DNS labels separated by dots (a trailing dot allowed), as Istio's ValidateTrustDomain. */
export function trustDomainProblem(domain: string): Problem {
  if (domain === '') return 'must not be empty';
  const labels = domain.split('.');
  const bad = labels.find((l, i) => !(i === labels.length - 1 && i > 0 && l === '') && !isIstioDnsLabel(l));
  return bad === undefined ? undefined : `"${domain}" is not a valid trust domain (label "${bad}" is invalid)`;
}

const NORMALIZATIONS = ['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const;

// The shape as written; pathNormalization is an object here and a plain value in MeshConfigFile.
interface MeshConfigYaml extends ObservabilityYaml {
  trustDomain?: string;
  trustDomainAliases?: string[];
  rootNamespace?: string;
  extensionProviders?: ExtensionProvider[];
  pathNormalization?: { normalization?: (typeof NORMALIZATIONS)[number] };
}

const USED: Fields<MeshConfigYaml> = {
  trustDomain: string({ check: trustDomainProblem }),
  trustDomainAliases: array(string({ check: trustDomainProblem })),
  rootNamespace: string({ check: namespaceProblem }),
  extensionProviders,
  pathNormalization: object<NonNullable<MeshConfigYaml['pathNormalization']>>({ normalization: enumOf(NORMALIZATIONS) }),
  ...OBSERVABILITY_FIELDS,
};

// MeshConfig fields Weft accepts without acting on them (Istio's mesh/v1alpha1/config.proto). The
// common scalars are type-checked so a typo in a value still shows; the rest are taken as written.
const port = () => integer({ min: 0, max: 65535 });
const IGNORED: Record<string, Schema<unknown>> = {
  proxyListenPort: port(), proxyInboundListenPort: port(), proxyHttpPort: port(),
  connectTimeout: duration(), hboneIdleTimeout: duration({ allowZero: true }), protocolDetectionTimeout: duration({ allowZero: true }),
  dnsRefreshRate: duration(),
  tcpKeepalive: tolerated(),
  ingressClass: string(), ingressService: string(), ingressSelector: string(),
  ingressControllerMode: enumOf(['UNSPECIFIED', 'OFF', 'DEFAULT', 'STRICT']),
  enableEnvoyAccessLogService: boolean(), disableEnvoyListenerLog: boolean(),
  outboundTrafficPolicy: tolerated(), inboundTrafficPolicy: tolerated(), configSources: tolerated(),
  enableAutoMtls: boolean(), caCertificates: tolerated(),
  defaultServiceExportTo: array(string()), defaultVirtualServiceExportTo: array(string()), defaultDestinationRuleExportTo: array(string()),
  localityLbSetting: tolerated(), zoneAwareLbSetting: tolerated(), h2UpgradePolicy: enumOf(['DO_NOT_UPGRADE', 'UPGRADE']),
  inboundClusterStatName: string(), outboundClusterStatName: string(), certificates: tolerated(),
  serviceSettings: tolerated(), serviceScopeConfigs: tolerated(), enablePrometheusMerge: boolean(), verifyCertificateAtClient: boolean(),
  ca: tolerated(), discoverySelectors: tolerated(), defaultHttpRetryPolicy: tolerated(),
  meshMTLS: tolerated(), tlsDefaults: tolerated(), defaultTrafficPolicy: tolerated(), serviceEntryVisibility: tolerated(),
};

const meshConfigSchema = object<MeshConfigYaml>({ ...USED, ...IGNORED } as Fields<MeshConfigYaml>);

/** Parses and validates a mesh config; `source` labels errors (a file name). */
export function parseMeshConfig(text: string, source: string): MeshConfigResult {
  const fail = (e: Omit<Parameters<typeof apiError>[0], 'kind' | 'namespace' | 'name' | 'source'>): MeshConfigResult =>
    ({ config: {}, errors: [apiError({ source, kind: 'MeshConfig', namespace: '', name: '', ...e })], warnings: [] });

  const docs = parseAllDocuments(text, { prettyErrors: true });
  const values: unknown[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) return fail(yamlError(doc.errors[0]));
    const v: unknown = doc.toJS();
    if (v !== null && v !== undefined) values.push(v);
  }
  if (values.length === 0) return { config: {}, errors: [], warnings: [] };
  if (values.length > 1) return fail({ code: 'WEFT_E_NOT_AN_OBJECT', path: '', message: 'a mesh config is a single YAML document' });
  let mesh = values[0];
  if (isPlainObject(mesh) && mesh.kind === 'ConfigMap') {
    // The istio ConfigMap itself: its `mesh` key holds the mesh config as YAML text.
    const data = isPlainObject(mesh.data) ? mesh.data.mesh : undefined;
    if (typeof data !== 'string') return fail({ code: 'WEFT_E_MISSING_FIELD', path: 'data.mesh', message: 'is required (the mesh config as YAML text)' });
    return parseMeshConfig(data, `${source} data.mesh`);
  }
  if (!isPlainObject(mesh)) return fail({ code: 'WEFT_E_NOT_AN_OBJECT', path: '', message: 'a mesh config must be a mapping of MeshConfig fields' });
  mesh = withoutNulls(mesh);
  return validate(mesh as Record<string, unknown>, source);
}

function validate(mesh: Record<string, unknown>, source: string): MeshConfigResult {
  const ctx: Context = { issues: [], namespace: '' };
  meshConfigSchema.validate(mesh, '', ctx);
  const errors = ctx.issues.map((i) => apiError({ source, kind: 'MeshConfig', namespace: '', name: '', ...i }));
  const bad = new Set(ctx.issues.map((i) => i.path.split(/[.[]/)[0]));
  const config: MeshConfigFile = {};
  const warnings: string[] = [];
  const take = <K extends keyof MeshConfigYaml>(k: K): MeshConfigYaml[K] | undefined =>
    (mesh[k] === undefined || bad.has(k) ? undefined : (mesh[k] as MeshConfigYaml[K]));
  const trustDomain = take('trustDomain');
  if (trustDomain !== undefined) config.trustDomain = trustDomain;
  const aliases = take('trustDomainAliases');
  if (aliases !== undefined) config.trustDomainAliases = aliases;
  const rootNamespace = take('rootNamespace');
  if (rootNamespace !== undefined) config.rootNamespace = rootNamespace;
  const providers = take('extensionProviders');
  if (providers !== undefined) {
    config.extensionProviders = providers.map(normalizeProvider);
    warnings.push(...otherProviderWarnings(providers, 'extensionProviders'));
  }
  const normalization = take('pathNormalization');
  if (normalization !== undefined) {
    const n = normalization.normalization ?? 'DEFAULT';
    config.pathNormalization = n === 'DEFAULT' ? 'BASE' : n;
  }
  Object.assign(config, readObservability(take, warnings));
  for (const [k, v] of Object.entries(mesh)) {
    if (!Object.hasOwn(IGNORED, k)) continue;
    if (!bad.has(k)) (config.ignored ??= {})[k] = v;
    warnings.push(`${k}: not used by Weft`);
  }
  return { config, errors, warnings };
}

// Protobuf's JSON form lets numbers be quoted and Istio's docs quote ports (`port: "8000"`);
// statusOnError is a string in Istio's API but is often written unquoted. Give each its API type.
function normalizeProvider(p: ExtensionProvider): ExtensionProvider {
  for (const kind of ['zipkin', 'opentelemetry'] as const) {
    const tracer = p[kind];
    if (tracer !== undefined) return { ...p, [kind]: { ...tracer, port: portNumberOf(tracer.port) ?? tracer.port } };
  }
  const http = p.envoyExtAuthzHttp;
  if (http === undefined) return p;
  const raw = http as unknown as { port: unknown; statusOnError?: unknown };
  return {
    ...p,
    envoyExtAuthzHttp: {
      ...http,
      port: portNumberOf(raw.port) ?? http.port,
      ...(raw.statusOnError === undefined ? {} : { statusOnError: String(raw.statusOnError) }),
    },
  };
}

function yamlError(e: YAMLError): Omit<Parameters<typeof apiError>[0], 'kind' | 'namespace' | 'name' | 'source'> {
  const pos = e.linePos?.[0];
  const reason = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const at = pos === undefined ? '' : ` at line ${pos.line}, column ${pos.col}`;
  return { code: 'WEFT_E_YAML_SYNTAX', path: '', message: `YAML syntax error${at}: ${reason}`, line: pos?.line, column: pos?.col };
}

