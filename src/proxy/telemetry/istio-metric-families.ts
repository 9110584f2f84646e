// The Istio standard metrics as prom-client sees them: each family is a registry entry whose values
// are built from plain cells when the registry is scraped. A cell is one label set of one metric,
// found once per combination of labels (istio-label-cache.ts) and then only incremented: nothing is
// hashed, formatted or concatenated per request.
import type { Registry } from 'prom-client';
import type { IstioMetricName } from './stats-plugin-config.ts';

export type Labels = Readonly<Record<string, string>>;

/** Istio's buckets for istio_request_duration_milliseconds. */
export const durationBuckets: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];
/** Istio's buckets for istio_request_bytes and istio_response_bytes: 1 to 1e9 by powers of ten. */
export const sizeBuckets: readonly number[] = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

export class CounterCell {
  readonly labels: Labels;
  value = 0;

  constructor(labels: Labels) {
    this.labels = labels;
  }
}

export class HistogramCell {
  readonly labels: Labels;
  readonly buckets: readonly number[];
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: Labels, buckets: readonly number[]) {
    this.labels = labels;
    this.buckets = buckets;
    this.counts = new Float64Array(buckets.length + 1);
  }

  observe(value: number): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

type Value = { metricName?: string; labels: Record<string, string | number>; value: number };

export class MetricFamily<C extends CounterCell | HistogramCell> {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, C>();
  private readonly create: (labels: Labels) => C;

  constructor(name: string, help: string, type: 'counter' | 'histogram', create: (labels: Labels) => C) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.create = create;
  }

  /** The cell of a label set (label sets that only differ in key order are one cell). Not per request. */
  cell(labels: Labels): C {
    const key = JSON.stringify(Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    let cell = this.cells.get(key);
    if (cell === undefined) this.cells.set(key, (cell = this.create(labels)));
    return cell;
  }

  /** Forgets every cell (tests; Envoy keeps them for the proxy's life). */
  reset(): void {
    this.cells.clear();
  }

  /** prom-client's metric interface: called by registry.metrics() when scraped. */
  get(): { name: string; help: string; type: string; values: Value[]; aggregator: string } {
    const values: Value[] = [];
    for (const cell of this.cells.values()) {
      if (cell instanceof CounterCell) {
        values.push({ labels: { ...cell.labels }, value: cell.value });
        continue;
      }
      let cumulative = 0;
      for (let i = 0; i < cell.buckets.length; i++) {
        cumulative += cell.counts[i];
        values.push({ metricName: `${this.name}_bucket`, labels: { ...cell.labels, le: cell.buckets[i] }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...cell.labels, le: '+Inf' }, value: cell.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...cell.labels }, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...cell.labels }, value: cell.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

const counter = (name: string, help: string) => new MetricFamily<CounterCell>(name, help, 'counter', (l) => new CounterCell(l));
const histogram = (name: string, help: string, buckets: readonly number[]) =>
  new MetricFamily<HistogramCell>(name, help, 'histogram', (l) => new HistogramCell(l, buckets));

/** The eight families of one proxy, registered in its registry. */
export class IstioMetricFamilies {
  readonly requestsTotal = counter('istio_requests_total', 'Requests, by source, destination and response (Istio standard metric)');
  readonly requestDuration = histogram('istio_request_duration_milliseconds', 'Request duration in milliseconds (Istio standard metric)', durationBuckets);
  readonly requestBytes = histogram('istio_request_bytes', 'Request sizes in bytes: headers and body (Istio standard metric)', sizeBuckets);
  readonly responseBytes = histogram('istio_response_bytes', 'Response sizes in bytes: headers and body (Istio standard metric)', sizeBuckets);
  readonly tcpSentBytes = counter('istio_tcp_sent_bytes_total', 'Bytes sent to the downstream of TCP connections (Istio standard metric)');
  readonly tcpReceivedBytes = counter('istio_tcp_received_bytes_total', 'Bytes received from the downstream of TCP connections (Istio standard metric)');
  readonly tcpOpened = counter('istio_tcp_connections_opened_total', 'TCP connections opened (Istio standard metric)');
  readonly tcpClosed = counter('istio_tcp_connections_closed_total', 'TCP connections closed (Istio standard metric)');

  constructor(registry: Registry) {
    for (const family of this.all()) registry.registerMetric(family as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  all(): MetricFamily<CounterCell | HistogramCell>[] {
    return [
      this.requestsTotal, this.requestDuration, this.requestBytes, this.responseBytes,
      this.tcpSentBytes, this.tcpReceivedBytes, this.tcpOpened, this.tcpClosed,
    ];
  }

  byName(name: IstioMetricName): MetricFamily<CounterCell | HistogramCell> {
    switch (name) {
      case 'requests_total': return this.requestsTotal;
      case 'request_duration_milliseconds': return this.requestDuration;
      case 'request_bytes': return this.requestBytes;
      case 'response_bytes': return this.responseBytes;
      case 'tcp_sent_bytes_total': return this.tcpSentBytes;
      case 'tcp_received_bytes_total': return this.tcpReceivedBytes;
      case 'tcp_connections_opened_total': return this.tcpOpened;
      case 'tcp_connections_closed_total': return this.tcpClosed;
    }
  }
}
