// Tracing: the HTTP connection manager's `tracing` for one side of a workload, with Istio's
// semantics. A provider comes from the Telemetry resources (root namespace, namespace, workload; the
// last that names one wins) or MeshConfig.defaultProviders.tracing; without Telemetry tracing or a
// default provider, `enableTracing` with defaultConfig.tracing.zipkin.address sends to that Zipkin
// collector. The sampling percentage is the Telemetry's, else defaultConfig.tracing.sampling, else 1%.
// Without a provider whose collector is a known service there is no `tracing` (no spans; trace
// headers still pass through).
import type { ExtensionProvider, Telemetry, TracingCustomTag } from '../../../api/index.ts';
import { openTelemetryOf, zipkinOf } from '../../../api/mesh-telemetry-providers.ts';
import type { MeshSnapshot, ProxyNode } from '../../registry/model.ts';
import { duration, type EnvoyResource } from '../envoy-types.ts';
import { parseDuration } from '../../../api/index.ts';
import { collectorFor } from './collector.ts';
import { findProvider, providerKind } from './providers.ts';
import type { Side } from './side.ts';

const ZIPKIN_CONFIG = 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig';
const OPENTELEMETRY_CONFIG = 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig';
const DEFAULT_SAMPLING = 1;
const DEFAULT_EXPORT_TIMEOUT_MS = 5000;

interface TracingSpec {
  provider?: ExtensionProvider;
  disabled: boolean;
  sampling?: number;
  customTags?: Record<string, TracingCustomTag>;
}

/** Istio's Telemetries.Tracing: undefined when neither Telemetry nor defaultProviders configure tracing. */
function tracingSpecs(snapshot: MeshSnapshot, telemetries: readonly Telemetry[], warnings: string[]): Record<Side, TracingSpec> | undefined {
  const entries = telemetries.flatMap((t) => (t.spec.tracing ?? []).map((tracing) => ({ t, tracing })));
  const defaults = snapshot.config.defaultProviders?.tracing ?? [];
  if (entries.length === 0 && defaults.length === 0) return undefined;
  const lookup = (name: string, where: string) => {
    const p = findProvider(snapshot.config, name);
    if (p === undefined) warnings.push(`${where}: tracing provider "${name}" is not defined in the mesh config's extensionProviders; tracing is off`);
    return p;
  };
  const initial = defaults.length > 0 ? lookup(defaults[0], 'MeshConfig defaultProviders.tracing') : undefined;
  const specs: Record<Side, TracingSpec> = { client: { provider: initial, disabled: false }, server: { provider: initial, disabled: false } };
  for (const { t, tracing } of entries) {
    const mode = tracing.match?.mode ?? 'CLIENT_AND_SERVER';
    const targets = mode === 'CLIENT' ? [specs.client] : mode === 'SERVER' ? [specs.server] : [specs.client, specs.server];
    const where = `Telemetry ${t.metadata.namespace}/${t.metadata.name}`;
    const name = tracing.providers?.[0]?.name;
    const provider = name === undefined ? undefined : lookup(name, where);
    for (const spec of targets) {
      if (name !== undefined) spec.provider = provider;
      if (tracing.disableSpanReporting !== undefined) spec.disabled = tracing.disableSpanReporting;
      if (tracing.customTags !== undefined) spec.customTags = tracing.customTags;
      if (tracing.randomSamplingPercentage !== undefined) spec.sampling = tracing.randomSamplingPercentage;
    }
  }
  return specs;
}

/** Istio's fallback: the percentage of defaultConfig.tracing.sampling (0 or unset: 1%; over 100: 1%). */
function meshSampling(snapshot: MeshSnapshot): number {
  const s = snapshot.config.tracing?.sampling;
  if (s === undefined || s === 0) return DEFAULT_SAMPLING;
  return s > 100 ? DEFAULT_SAMPLING : s;
}

/** `<app label or workload name>.<namespace>`, as Istio names a workload's traces. */
function serviceName(proxy: ProxyNode): string {
  const app = proxy.metadata.labels.app ?? proxy.metadata.labels['app.kubernetes.io/name'] ?? proxy.metadata.workloadName;
  return `${app}.${proxy.metadata.namespace}`;
}

function customTags(tags: Record<string, TracingCustomTag> | undefined, warnings: string[]): EnvoyResource[] {
  const out: EnvoyResource[] = [];
  for (const tag of Object.keys(tags ?? {}).sort()) {
    const t = tags![tag];
    if (t.literal) out.push({ tag, literal: { value: t.literal.value } });
    else if (t.environment) out.push({ tag, environment: { name: t.environment.name, default_value: t.environment.defaultValue ?? '' } });
    else if (t.header) out.push({ tag, request_header: { name: t.header.name, default_value: t.header.defaultValue ?? '' } });
    else if (t.formatter) warnings.push(`tracing custom tag "${tag}": formatter tags are not supported by Weft; the tag is left out`);
  }
  return out;
}

function timeoutOf(text: string | undefined) {
  return duration(Math.round(text === undefined ? DEFAULT_EXPORT_TIMEOUT_MS : parseDuration(text) ?? DEFAULT_EXPORT_TIMEOUT_MS));
}

/** Envoy's Tracing.Http for a provider; undefined (with a warning) when it cannot be used. */
function tracerFor(snapshot: MeshSnapshot, proxy: ProxyNode, provider: ExtensionProvider, warnings: string[]): { http: EnvoyResource; maxTagLength?: number } | undefined {
  const zipkin = zipkinOf(provider);
  const otel = openTelemetryOf(provider);
  const target = zipkin ?? otel;
  if (target === undefined) {
    warnings.push(`tracing provider "${provider.name}": ${providerKind(provider)} tracing is not supported by Weft (zipkin and opentelemetry over HTTP are); tracing is off`);
    return undefined;
  }
  const collector = collectorFor(snapshot, target.service, target.port);
  if (collector === undefined) {
    warnings.push(`tracing provider "${provider.name}": ${target.service}:${target.port} is not a known service and port; tracing is off`);
    return undefined;
  }
  if (zipkin) {
    return {
      maxTagLength: zipkin.maxTagLength,
      http: {
        name: 'envoy.tracers.zipkin',
        typed_config: {
          '@type': ZIPKIN_CONFIG,
          collector_cluster: collector.cluster,
          collector_endpoint: zipkin.path ?? '/api/v2/spans',
          collector_endpoint_version: 'HTTP_JSON',
          collector_hostname: collector.host,
          trace_id_128bit: zipkin.enable64bitTraceId !== true,
          shared_span_context: { value: false },
        },
      },
    };
  }
  if (otel!.http === undefined) {
    warnings.push(`tracing provider "${provider.name}": OpenTelemetry export over gRPC is not supported by Weft; set opentelemetry.http to export over OTLP/HTTP; tracing is off`);
    return undefined;
  }
  const headers = (otel!.http.headers ?? []).flatMap((h) => (h.name !== undefined && h.value !== undefined
    ? [{ header: { key: h.name, value: h.value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] : []));
  return {
    maxTagLength: otel!.maxTagLength,
    http: {
      name: 'envoy.tracers.opentelemetry',
      typed_config: {
        '@type': OPENTELEMETRY_CONFIG,
        http_service: {
          http_uri: { uri: `http://${collector.host}:${collector.port}${otel!.http.path || '/v1/traces'}`, cluster: collector.cluster, timeout: timeoutOf(otel!.http.timeout) },
          ...(headers.length > 0 ? { request_headers_to_add: headers } : {}),
        },
        service_name: serviceName(proxy),
      },
    },
  };
}

/** Istio's legacy tracing: enableTracing with the Zipkin collector of defaultConfig.tracing.zipkin.address. */
function meshZipkinProvider(snapshot: MeshSnapshot, warnings: string[]): ExtensionProvider | undefined {
  if (snapshot.config.enableTracing !== true) return undefined;
  const address = snapshot.config.tracing?.zipkinAddress;
  if (address === undefined) {
    warnings.push('MeshConfig enableTracing: no tracer is configured (set defaultConfig.tracing.zipkin.address, or a tracing provider in defaultProviders.tracing or a Telemetry); tracing is off');
    return undefined;
  }
  const colon = address.lastIndexOf(':');
  return { name: 'defaultConfig.tracing.zipkin', zipkin: { service: address.slice(0, colon), port: Number(address.slice(colon + 1)) } };
}

export interface WorkloadTracing {
  /** The HCM `tracing` field for each side, when that side traces. */
  client?: EnvoyResource;
  server?: EnvoyResource;
}

export function workloadTracing(snapshot: MeshSnapshot, proxy: ProxyNode, telemetries: readonly Telemetry[], warnings: string[]): WorkloadTracing {
  const specs = tracingSpecs(snapshot, telemetries, warnings);
  const out: WorkloadTracing = {};
  if (specs === undefined) {
    const provider = meshZipkinProvider(snapshot, warnings);
    if (provider === undefined) return out;
    const built = build(snapshot, proxy, { provider, disabled: false }, warnings);
    return { client: built, server: built };
  }
  out.client = build(snapshot, proxy, specs.client, warnings);
  out.server = build(snapshot, proxy, specs.server, warnings);
  return out;
}

function build(snapshot: MeshSnapshot, proxy: ProxyNode, spec: TracingSpec, warnings: string[]): EnvoyResource | undefined {
  if (spec.disabled || spec.provider === undefined) return undefined;
  const tracer = tracerFor(snapshot, proxy, spec.provider, warnings);
  if (tracer === undefined) return undefined;
  const tags = customTags(spec.customTags, warnings);
  return {
    provider: tracer.http,
    random_sampling: { value: spec.sampling ?? meshSampling(snapshot) },
    ...(tags.length > 0 ? { custom_tags: tags } : {}),
    ...(tracer.maxTagLength ? { max_path_tag_length: { value: tracer.maxTagLength } } : {}),
  };
}
