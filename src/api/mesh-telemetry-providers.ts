// The MeshConfig extension providers Weft's telemetry acts on: tracers (zipkin, opentelemetry over
// OTLP/HTTP), the file access log (envoyFileAccessLog) and Prometheus metrics. Checked field by field
// as Istio's ValidateExtensionProvider* do; fields Weft does not act on are accepted as written.

import {
  array, boolean, duration, enumOf, integer, isPlainObject, object, report, string, tolerated, UINT32_MAX,
  type Schema,
} from './schema.ts';
import type { ExtensionProvider } from './kinds/security-types.ts';
import { providerPort, providerServiceProblem } from './mesh-provider-fields.ts';

export interface ProviderHttpHeader {
  name?: string;
  value?: string;
  envName?: string;
}

export interface ZipkinProviderConfig {
  /** The collector's host name (a service in the mesh registry), or `namespace/host`. */
  service: string;
  port: number;
  maxTagLength?: number;
  enable64bitTraceId?: boolean;
  /** Where spans are posted; default /api/v2/spans. */
  path?: string;
  traceContextOption?: 'USE_B3' | 'USE_B3_WITH_W3C_PROPAGATION';
  timeout?: string;
  headers?: ProviderHttpHeader[];
}

export interface OpenTelemetryHttpService {
  /** Default /v1/traces. */
  path?: string;
  timeout?: string;
  headers?: ProviderHttpHeader[];
}

export interface OpenTelemetryProviderConfig {
  service: string;
  port: number;
  maxTagLength?: number;
  /** OTLP over HTTP; without it, Istio exports over gRPC (which Weft's proxy does not). */
  http?: OpenTelemetryHttpService;
  grpc?: { timeout?: string; initialMetadata?: ProviderHttpHeader[] };
  resourceDetectors?: unknown;
  serviceAttributeEnrichment?: 'ISTIO_CANONICAL' | 'OTEL_SEMANTIC_CONVENTIONS';
  dynatraceSampler?: unknown;
}

export interface EnvoyFileAccessLogProviderConfig {
  /** A file, or /dev/stdout (the default). */
  path?: string;
  /** `text`: a format string; `labels`: a JSON object of format strings. Default: Istio's text format. */
  logFormat?: { text?: string; labels?: Record<string, unknown> };
  omitEmptyValues?: boolean;
}

export type PrometheusProviderConfig = Record<string, never>;

const header: Schema<ProviderHttpHeader> = object<ProviderHttpHeader>({
  name: string({ check: (s) => (s === '' ? 'must not be empty' : undefined) }),
  value: string(),
  envName: string(),
}, { required: ['name'], oneOf: [['value', 'envName']] });

const pathCheck = (p: string) => (p === '' || p.startsWith('/') ? undefined : `must begin with "/" (got "${p}")`);

export const zipkinProvider: Schema<ZipkinProviderConfig> = object<ZipkinProviderConfig>({
  service: string({ check: providerServiceProblem }),
  port: providerPort,
  maxTagLength: integer({ min: 0, max: UINT32_MAX }),
  enable64bitTraceId: boolean(),
  path: string({ check: pathCheck }),
  traceContextOption: enumOf(['USE_B3', 'USE_B3_WITH_W3C_PROPAGATION'] as const),
  timeout: duration(),
  headers: array(header),
}, { required: ['service', 'port'] });

export const openTelemetryProvider: Schema<OpenTelemetryProviderConfig> = object<OpenTelemetryProviderConfig>({
  service: string({ check: providerServiceProblem }),
  port: providerPort,
  maxTagLength: integer({ min: 0, max: UINT32_MAX }),
  http: object<OpenTelemetryHttpService>({ path: string({ check: pathCheck }), timeout: duration(), headers: array(header) }),
  grpc: object<NonNullable<OpenTelemetryProviderConfig['grpc']>>({ timeout: duration(), initialMetadata: array(header) }),
  resourceDetectors: tolerated(),
  serviceAttributeEnrichment: enumOf(['ISTIO_CANONICAL', 'OTEL_SEMANTIC_CONVENTIONS'] as const),
  dynatraceSampler: tolerated(),
}, {
  required: ['service', 'port'],
  check(p, path, ctx) {
    if (p.http !== undefined && p.grpc !== undefined) report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, 'cannot specify both grpc and http');
  },
});

const logFormat: Schema<NonNullable<EnvoyFileAccessLogProviderConfig['logFormat']>> = object<NonNullable<EnvoyFileAccessLogProviderConfig['logFormat']>>({
  text: string(),
  labels: {
    expected: 'an object of format strings', plural: 'objects',
    validate(value, path, ctx) {
      if (!isPlainObject(value)) report(ctx, 'WEFT_E_WRONG_TYPE', path, 'must be an object of format strings');
    },
  },
}, { oneOf: [['text', 'labels']] });

export const envoyFileAccessLogProvider: Schema<EnvoyFileAccessLogProviderConfig> = object<EnvoyFileAccessLogProviderConfig>({
  path: string(),
  logFormat,
  omitEmptyValues: boolean(),
});

export const prometheusProvider: Schema<PrometheusProviderConfig> = object<PrometheusProviderConfig>({});

/** The provider kinds checked here, with their schemas. */
export const TELEMETRY_PROVIDER_SCHEMAS = {
  zipkin: zipkinProvider,
  opentelemetry: openTelemetryProvider,
  envoyFileAccessLog: envoyFileAccessLogProvider,
  prometheus: prometheusProvider,
} as const;

// ExtensionProvider keeps these kinds in its loose shape; after validation they have these types.
export const zipkinOf = (p: ExtensionProvider) => p.zipkin as unknown as ZipkinProviderConfig | undefined;
export const openTelemetryOf = (p: ExtensionProvider) => p.opentelemetry as unknown as OpenTelemetryProviderConfig | undefined;
export const envoyFileAccessLogOf = (p: ExtensionProvider) => p.envoyFileAccessLog as unknown as EnvoyFileAccessLogProviderConfig | undefined;
