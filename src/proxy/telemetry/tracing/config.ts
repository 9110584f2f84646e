// HttpConnectionManager.tracing → TracingSpec: the sampling percentages, the span tags, and the
// provider the spans go to (envoy.config.trace.v3.OpenTelemetryConfig over OTLP/HTTP, or ZipkinConfig
// over Zipkin v2 JSON). Registered as the stream observer of the `tracing` field; without that field
// (or without a provider, as in Envoy) nothing is traced and trace headers pass through untouched.
import {
  FieldPath, bool, boolWrapper, checkFields, durationMs, message, optionalMessage, repeated, requiredString, string, typeUrlOf,
  uintWrapper, type Message,
} from '../../upstream/envoy-config.ts';
import { registerStreamObserver } from '../../http/stream-observers.ts';
import { createTracingObserver } from './observer.ts';

export const openTelemetryConfigType = 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig';
export const zipkinConfigType = 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig';

export type CustomTag =
  /** literal, and environment (read once, when the config arrives, as Envoy does). */
  | { tag: string; kind: 'value'; value: string }
  | { tag: string; kind: 'request_header'; header: string; defaultValue: string };

export type OpenTelemetryProvider = {
  kind: 'opentelemetry';
  /** http_service.http_uri.cluster: the collector's endpoints come from this cluster. */
  cluster: string;
  /** The path (and query) of http_service.http_uri.uri; its host only names the collector. */
  path: string;
  timeoutMs: number;
  /** http_service.request_headers_to_add. */
  headers: Record<string, string>;
  /** service_name: the resource's service.name ('' : the proxy's own service name). */
  serviceName: string;
};

export type ZipkinProvider = {
  kind: 'zipkin';
  cluster: string;
  path: string;
  /** trace_id_128bit: new traces get 128-bit ids (else 64-bit, as Envoy's default). */
  traceId128: boolean;
  /**
   * shared_span_context (default true): an inbound request's span reuses the caller's span id, as
   * Zipkin's original model of one span shared by client and server. Istio sets false.
   */
  sharedSpanContext: boolean;
  /** collector_hostname: the Host header of reports ('' : the endpoint's address). */
  hostname: string;
};

export type TracingProvider = OpenTelemetryProvider | ZipkinProvider;

export type TracingSpec = {
  provider: TracingProvider;
  /** Percentages, 0 to 100. */
  randomSampling: number;
  clientSampling: number;
  overallSampling: number;
  maxPathTagLength: number;
  customTags: CustomTag[];
};

const tracingFields = new Set([
  'client_sampling', 'random_sampling', 'overall_sampling', 'verbose', 'max_path_tag_length', 'custom_tags', 'provider',
  'spawn_upstream_span',
]);
const providerFields = new Set(['name', 'typed_config']);
const otelFields = new Set(['@type', 'http_service', 'service_name', 'grpc_service', 'resource_detectors', 'sampler']);
const httpServiceFields = new Set(['http_uri', 'request_headers_to_add']);
const httpUriFields = new Set(['uri', 'cluster', 'timeout']);
const zipkinFields = new Set([
  '@type', 'collector_cluster', 'collector_endpoint', 'trace_id_128bit', 'shared_span_context', 'collector_endpoint_version',
  'collector_hostname', 'split_spans_for_request',
]);
const customTagFields = new Set(['tag', 'literal', 'environment', 'request_header', 'metadata']);
/** Envoy's default of max_path_tag_length. */
const defaultMaxPathTagLength = 256;
/** The OTLP exporter's timeout when http_uri.timeout is unset. */
const defaultExportTimeoutMs = 10_000;

export function register(): void {
  registerStreamObserver(['tracing'], (at, config) => {
    const spec = compileTracing(at.field('tracing'), config.tracing);
    return spec === null ? null : (context) => createTracingObserver(spec, context);
  });
}

/** The connection manager's `tracing`; null when absent or without a provider (nothing is traced). */
export function compileTracing(at: FieldPath, value: unknown): TracingSpec | null {
  const tracing = optionalMessage(at, value);
  if (tracing === undefined) return null;
  checkFields(at, tracing, tracingFields);
  if (boolWrapper(at.field('spawn_upstream_span'), tracing.spawn_upstream_span) === true) {
    at.field('spawn_upstream_span').reject('true is not supported (the proxy makes one span per request)');
  }
  bool(at.field('verbose'), tracing.verbose);
  const customTags = compileCustomTags(at.field('custom_tags'), tracing.custom_tags);
  const maxPathTagLength = uintWrapper(at.field('max_path_tag_length'), tracing.max_path_tag_length) ?? defaultMaxPathTagLength;
  const randomSampling = percent(at.field('random_sampling'), tracing.random_sampling);
  const clientSampling = percent(at.field('client_sampling'), tracing.client_sampling);
  const overallSampling = percent(at.field('overall_sampling'), tracing.overall_sampling);
  const providerMessage = optionalMessage(at.field('provider'), tracing.provider);
  if (providerMessage === undefined) return null;
  const provider = compileProvider(at.field('provider'), providerMessage);
  return { provider, randomSampling, clientSampling, overallSampling, maxPathTagLength, customTags };
}

/** envoy.type.v3.Percent: `{value}` from 0 to 100; unset is 100, Envoy's default for every sampling field. */
function percent(at: FieldPath, value: unknown): number {
  const p = optionalMessage(at, value);
  if (p === undefined) return 100;
  checkFields(at, p, new Set(['value']));
  const v = p.value ?? 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) return at.field('value').reject('must be a number');
  if (v < 0 || v > 100) at.field('value').reject(`${v} is out of range (0 to 100)`);
  return v;
}

function compileProvider(at: FieldPath, provider: Message): TracingProvider {
  checkFields(at, provider, providerFields);
  const name = string(at.field('name'), provider.name) ?? '';
  const typed = optionalMessage(at.field('typed_config'), provider.typed_config);
  if (typed === undefined) return at.field('typed_config').reject(`is required (provider ${name || 'unnamed'})`);
  const typeUrl = typeUrlOf(typed);
  if (typeUrl === openTelemetryConfigType) return compileOpenTelemetry(at.field('typed_config'), typed);
  if (typeUrl === zipkinConfigType) return compileZipkin(at.field('typed_config'), typed);
  return at.field('typed_config').reject(`(${name || 'unnamed'}): tracer type ${typeUrl || '(none)'} is not supported (OpenTelemetryConfig and ZipkinConfig are)`);
}

function compileOpenTelemetry(at: FieldPath, config: Message): OpenTelemetryProvider {
  checkFields(at, config, otelFields);
  for (const field of ['grpc_service', 'resource_detectors', 'sampler']) {
    const v = config[field];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) {
      at.field(field).reject(field === 'grpc_service' ? 'is not supported (export over http_service)' : 'is not supported');
    }
  }
  const service = optionalMessage(at.field('http_service'), config.http_service);
  if (service === undefined) return at.field('http_service').reject('is required (the OTLP/HTTP collector)');
  const sat = at.field('http_service');
  checkFields(sat, service, httpServiceFields);
  const uriAt = sat.field('http_uri');
  const httpUri = message(uriAt, service.http_uri);
  checkFields(uriAt, httpUri, httpUriFields);
  const cluster = requiredString(uriAt.field('cluster'), httpUri.cluster);
  const path = uriPath(uriAt.field('uri'), requiredString(uriAt.field('uri'), httpUri.uri));
  const timeoutMs = durationMs(uriAt.field('timeout'), httpUri.timeout) || defaultExportTimeoutMs;
  const headers: Record<string, string> = {};
  repeated(sat.field('request_headers_to_add'), service.request_headers_to_add).forEach((entry, i) => {
    const hat = sat.field('request_headers_to_add').item(i);
    const option = message(hat, entry);
    const header = message(hat.field('header'), option.header);
    const key = requiredString(hat.field('header').field('key'), header.key).toLowerCase();
    headers[key] = string(hat.field('header').field('value'), header.value) ?? '';
  });
  return { kind: 'opentelemetry', cluster, path, timeoutMs, headers, serviceName: string(at.field('service_name'), config.service_name) ?? '' };
}

function compileZipkin(at: FieldPath, config: Message): ZipkinProvider {
  checkFields(at, config, zipkinFields);
  const cluster = requiredString(at.field('collector_cluster'), config.collector_cluster);
  const endpoint = requiredString(at.field('collector_endpoint'), config.collector_endpoint);
  if (!endpoint.startsWith('/')) at.field('collector_endpoint').reject(`${JSON.stringify(endpoint)} must be a path starting with /`);
  const version = config.collector_endpoint_version ?? 'HTTP_JSON';
  // 0 (DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE) is what an unset enum reads as over the wire: the JSON default.
  if (version !== 'HTTP_JSON' && version !== 1 && version !== 0 && version !== 'DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE') {
    at.field('collector_endpoint_version').reject(`${String(version)} is not supported (HTTP_JSON is)`);
  }
  return {
    kind: 'zipkin',
    cluster,
    path: endpoint,
    traceId128: bool(at.field('trace_id_128bit'), config.trace_id_128bit) ?? false,
    sharedSpanContext: boolWrapper(at.field('shared_span_context'), config.shared_span_context) ?? true,
    hostname: string(at.field('collector_hostname'), config.collector_hostname) ?? '',
  };
}

/** The path and query of an absolute http(s) URI (`http://otel-collector.observability:4318/v1/traces`). */
function uriPath(at: FieldPath, uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return at.reject(`${JSON.stringify(uri)} is not an absolute URI`);
  }
  if (url.protocol !== 'http:') at.reject(`${JSON.stringify(uri)}: only http is supported (the collector is reached in plain text through its cluster)`);
  return `${url.pathname}${url.search}`;
}

function compileCustomTags(at: FieldPath, value: unknown): CustomTag[] {
  const tags: CustomTag[] = [];
  const seen = new Set<string>();
  repeated(at, value).forEach((entry, i) => {
    const tat = at.item(i);
    const t = message(tat, entry);
    checkFields(tat, t, customTagFields);
    const tag = requiredString(tat.field('tag'), t.tag);
    if (seen.has(tag)) tat.field('tag').reject(`${tag} appears twice`);
    seen.add(tag);
    const literal = optionalMessage(tat.field('literal'), t.literal);
    const env = optionalMessage(tat.field('environment'), t.environment);
    const header = optionalMessage(tat.field('request_header'), t.request_header);
    const kinds = [literal, env, header, optionalMessage(tat.field('metadata'), t.metadata)].filter((k) => k !== undefined).length;
    if (kinds !== 1) tat.reject('must set exactly one of literal, environment, request_header, metadata');
    if (literal) {
      checkFields(tat.field('literal'), literal, new Set(['value']));
      tags.push({ tag, kind: 'value', value: requiredString(tat.field('literal').field('value'), literal.value) });
    } else if (env) {
      checkFields(tat.field('environment'), env, new Set(['name', 'default_value']));
      const name = requiredString(tat.field('environment').field('name'), env.name);
      const fallback = string(tat.field('environment').field('default_value'), env.default_value) ?? '';
      tags.push({ tag, kind: 'value', value: process.env[name] ?? fallback });
    } else if (header) {
      checkFields(tat.field('request_header'), header, new Set(['name', 'default_value']));
      const name = requiredString(tat.field('request_header').field('name'), header.name).toLowerCase();
      tags.push({ tag, kind: 'request_header', header: name, defaultValue: string(tat.field('request_header').field('default_value'), header.default_value) ?? '' });
    } else {
      tat.field('metadata').reject('is not supported (literal, environment and request_header are)');
    }
  });
  return tags;
}
