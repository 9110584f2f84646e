// Where finished spans go: a bounded queue per provider, flushed in batches on a timer (or when a
// batch is full) to the OpenTelemetry JS exporters — OTLP/HTTP (JSON) or Zipkin v2 JSON. The request
// path only pushes onto the queue: a full queue drops the span (counted), an export never blocks nor
// throws into a request, and a failed export is counted and logged at most once per interval.
//
// The collector is a cluster like any other: each span is sent to an endpoint the cluster's balancer
// picks when the span is queued (the cluster set of the request, so a config swap is seen at once);
// spans are grouped by endpoint URL at flush time, one exporter per URL.
//
// The exporter packages, OpenTelemetry's core and resources (and what they pull in) are loaded on the
// first export, which also gives each span its service's resource: a proxy that never traces never
// holds them in memory.
import type { ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../../common/log.ts';
import type { ClusterSet } from '../../upstream/cluster-manager.ts';
import type { Host } from '../../upstream/host.ts';
import type { ProxyStats } from '../stats.ts';
import type { TracingProvider } from './config.ts';
import type { ProxySpan } from './span.ts';

/** Envoy's batching bounds are of this order; the queue never holds more than maxQueued spans. */
const maxQueued = 2048;
const maxBatch = 512;
const flushIntervalMs = 1000;
/** Exports in flight per provider: beyond that, spans wait in the (bounded) queue. */
const maxInFlight = 2;
/** Distinct collector endpoints keeping an exporter (endpoints come and go with EDS updates). */
const maxExporters = 16;
const errorLogIntervalMs = 10_000;
/** The time limit of a Zipkin export. */
const defaultTimeoutMs = 10_000;

/** The counters of one provider kind, shared by every sink of a proxy (Envoy's tracing.<provider>.* stats). */
export class TracingCounters {
  readonly spansSent: Counter;
  readonly spansDropped: Counter;
  readonly reportsFailed: Counter;

  constructor(registry: Registry, kind: string) {
    this.spansSent = counter(registry, `envoy_tracing_${kind}_spans_sent`, 'Spans the collector accepted');
    this.spansDropped = counter(registry, `envoy_tracing_${kind}_spans_dropped`, 'Spans dropped: queue full or no collector endpoint');
    this.reportsFailed = counter(registry, `envoy_tracing_${kind}_reports_failed`, 'Span exports that failed');
  }
}

function counter(registry: Registry, name: string, help: string): Counter {
  const existing = registry.getSingleMetric(name);
  return (existing as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
}

export class SpanSink {
  private readonly provider: TracingProvider;
  private readonly serviceName: string;
  private readonly logger: Logger;
  private readonly counters: TracingCounters;
  private spans: ProxySpan[] = [];
  private urls: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly exporters = new Map<string, SpanExporter>();
  /** The service's resource (`service.name`), made on the first export. */
  private resource: Resource | null = null;
  /** Collector URLs by endpoint, built once per endpoint rather than per span. */
  private readonly urlOfHost = new WeakMap<Host, string>();
  private lastErrorLog = 0;
  private errorsSinceLog = 0;
  private readonly flushBound: () => void;
  /** An export's time limit: the OTLP http_uri timeout (with a margin for the exporter's own), else defaultTimeoutMs. */
  private readonly timeoutMs: number;

  constructor(provider: TracingProvider, serviceName: string, logger: Logger, counters: TracingCounters) {
    this.provider = provider;
    this.serviceName = serviceName;
    this.logger = logger;
    this.counters = counters;
    this.flushBound = this.flush.bind(this);
    this.timeoutMs = provider.kind === 'opentelemetry' ? provider.timeoutMs + 1000 : defaultTimeoutMs;
  }

  /** Queues a finished span for the collector cluster's endpoint in `clusters` (dropped when there is none). */
  add(span: ProxySpan, clusters: ClusterSet): void {
    const url = this.collectorUrl(clusters);
    if (url === null || this.spans.length >= maxQueued) {
      this.counters.spansDropped.inc();
      if (url === null) this.exportFailed(new Error(`collector cluster ${this.provider.cluster} has no usable endpoint`), 0);
      return;
    }
    this.spans.push(span);
    this.urls.push(url);
    if (this.spans.length >= maxBatch) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(this.flushBound, flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Sends what is queued now (tests and shutdown); resolves when those exports are done. */
  async forceFlush(): Promise<void> {
    await this.flush();
  }

  private collectorUrl(clusters: ClusterSet): string | null {
    const host = clusters.get(this.provider.cluster)?.pick();
    if (host === null || host === undefined) return null;
    let url = this.urlOfHost.get(host);
    if (url === undefined) {
      const address = host.address.includes(':') ? `[${host.address}]` : host.address;
      url = `http://${address}:${host.port}${this.provider.path}`;
      this.urlOfHost.set(host, url);
    }
    return url;
  }

  private flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.spans.length === 0 || this.inFlight >= maxInFlight) return Promise.resolve();
    const spans = this.spans.splice(0, maxBatch);
    const urls = this.urls.splice(0, maxBatch);
    const byUrl = new Map<string, ProxySpan[]>();
    for (let i = 0; i < spans.length; i++) {
      const list = byUrl.get(urls[i]);
      if (list === undefined) byUrl.set(urls[i], [spans[i]]);
      else list.push(spans[i]);
    }
    this.inFlight++;
    const exports = [...byUrl].map(([url, batch]) => this.export(url, batch));
    return Promise.all(exports).then(() => {
      this.inFlight--;
      if (this.spans.length > 0) {
        if (this.spans.length >= maxBatch) void this.flush();
        else if (this.timer === null) {
          this.timer = setTimeout(this.flushBound, flushIntervalMs);
          this.timer.unref();
        }
      }
    });
  }

  /**
   * One batch to one endpoint. Bounded in time here too: the Zipkin exporter sets no timeout of its
   * own, and an export that never ends would hold its in-flight slot for good.
   */
  private export(url: string, batch: ProxySpan[]): Promise<void> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === null) this.counters.spansSent.inc(batch.length);
        else this.exportFailed(err, batch.length);
        resolve();
      };
      const timer = setTimeout(() => settle(new Error(`no answer from ${url} within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
      exporterClasses().then((classes) => {
        this.resource ??= classes.resourceFromAttributes({ 'service.name': this.serviceName });
        for (const span of batch) span.resource = this.resource;
        this.exporter(url, classes).export(batch, (result: ExportResult) => {
          settle(result.code === classes.ExportResultCode.SUCCESS ? null : result.error ?? new Error('export failed'));
        });
      }).catch((err: Error) => settle(err));
    });
  }

  private exporter(url: string, { OTLPTraceExporter, ZipkinExporter }: ExporterClasses): SpanExporter {
    let exporter = this.exporters.get(url);
    if (exporter !== undefined) return exporter;
    if (this.exporters.size >= maxExporters) {
      const [oldUrl, oldest] = this.exporters.entries().next().value!;
      this.exporters.delete(oldUrl);
      void oldest.shutdown().catch(() => {});
    }
    const p = this.provider;
    if (p.kind === 'opentelemetry') {
      exporter = new OTLPTraceExporter({ url, headers: p.headers, timeoutMillis: p.timeoutMs });
    } else {
      exporter = new ZipkinExporter({ url, serviceName: this.serviceName, headers: p.hostname === '' ? {} : { host: p.hostname } });
    }
    this.exporters.set(url, exporter);
    return exporter;
  }

  private exportFailed(err: Error, spans: number): void {
    if (spans > 0) this.counters.reportsFailed.inc();
    this.errorsSinceLog++;
    const now = Date.now();
    if (now - this.lastErrorLog < errorLogIntervalMs) return;
    this.logger.warn('span export failed', {
      provider: this.provider.kind, cluster: this.provider.cluster, error: err.message, failuresSinceLastLog: this.errorsSinceLog,
    });
    this.lastErrorLog = now;
    this.errorsSinceLog = 0;
  }
}

type ExporterClasses = {
  OTLPTraceExporter: typeof import('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter;
  ZipkinExporter: typeof import('@opentelemetry/exporter-zipkin').ZipkinExporter;
  ExportResultCode: typeof import('@opentelemetry/core').ExportResultCode;
  resourceFromAttributes: typeof import('@opentelemetry/resources').resourceFromAttributes;
};
let loading: Promise<ExporterClasses> | null = null;

/** The OpenTelemetry exporters, core and resources, imported once, when the first batch of spans is exported. */
function exporterClasses(): Promise<ExporterClasses> {
  loading ??= Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/exporter-zipkin'), import('@opentelemetry/core'), import('@opentelemetry/resources'),
  ]).then(([otlp, zipkin, core, resources]) => ({
    OTLPTraceExporter: otlp.OTLPTraceExporter, ZipkinExporter: zipkin.ZipkinExporter,
    ExportResultCode: core.ExportResultCode, resourceFromAttributes: resources.resourceFromAttributes,
  }));
  return loading;
}

const sinks = new WeakMap<ProxyStats, Map<string, SpanSink>>();
const counterSets = new WeakMap<ProxyStats, Map<string, TracingCounters>>();

/**
 * The sink of a provider in one proxy: connection managers (and config versions) with the same
 * provider share it, so a config swap neither loses queued spans nor multiplies exporters.
 */
export function sinkFor(stats: ProxyStats, provider: TracingProvider, serviceName: string, logger: Logger): SpanSink {
  let bySpec = sinks.get(stats);
  if (bySpec === undefined) {
    bySpec = new Map();
    sinks.set(stats, bySpec);
  }
  const key = JSON.stringify([provider, serviceName]);
  let sink = bySpec.get(key);
  if (sink === undefined) {
    let counters = counterSets.get(stats);
    if (counters === undefined) {
      counters = new Map();
      counterSets.set(stats, counters);
    }
    let set = counters.get(provider.kind);
    if (set === undefined) {
      set = new TracingCounters(stats.registry, provider.kind);
      counters.set(provider.kind, set);
    }
    sink = new SpanSink(provider, serviceName, logger, set);
    bySpec.set(key, sink);
  }
  return sink;
}
