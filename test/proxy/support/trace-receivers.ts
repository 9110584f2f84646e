// Span receivers on 127.0.0.1 for tracing tests: an OTLP/HTTP collector (POST /v1/traces; the
// OpenTelemetry JS OTLP/HTTP exporter posts JSON, the only encoding accepted here) and a Zipkin v2
// collector (POST /api/v2/spans, JSON). Both decode what they get into one flat span shape.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceivedSpan = {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: 'SERVER' | 'CLIENT' | 'OTHER';
  /** The resource's service.name (OTLP) or the local endpoint's serviceName (Zipkin). */
  service: string;
  attributes: Record<string, string>;
  error: boolean;
};

export type SpanReceiver = {
  port: number;
  spans: ReceivedSpan[];
  /** Posts received (a failed decode counts too). */
  posts: number;
  /** What a post to this receiver is answered with (200 by default). */
  status: number;
  close(): Promise<void>;
};

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };
type OtlpSpan = {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[];
  status?: { code?: number };
};
type OtlpRequest = { resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[] };

function attributeMap(list: OtlpAttribute[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list ?? []) {
    const v = a.value;
    out[a.key] = String(v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue ?? '');
  }
  return out;
}

/** OTLP JSON ids are hex strings; protobuf-JSON-mapped base64 is accepted too, for other senders. */
function hexId(id: string | undefined): string {
  if (id === undefined || id === '') return '';
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

function decodeOtlp(body: OtlpRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = attributeMap(rs.resource?.attributes)['service.name'] ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: hexId(s.traceId),
          spanId: hexId(s.spanId),
          parentSpanId: hexId(s.parentSpanId),
          name: s.name,
          // OTLP SpanKind: 2 SERVER, 3 CLIENT.
          kind: s.kind === 2 ? 'SERVER' : s.kind === 3 ? 'CLIENT' : 'OTHER',
          service,
          attributes: attributeMap(s.attributes),
          error: s.status?.code === 2,
        });
      }
    }
  }
  return spans;
}

type ZipkinSpan = {
  traceId: string; id: string; parentId?: string; name: string; kind?: string; localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
};

function decodeZipkin(body: ZipkinSpan[]): ReceivedSpan[] {
  return body.map((s) => ({
    traceId: s.traceId,
    spanId: s.id,
    parentSpanId: s.parentId ?? '',
    name: s.name,
    kind: s.kind === 'SERVER' ? 'SERVER' : s.kind === 'CLIENT' ? 'CLIENT' : 'OTHER',
    service: s.localEndpoint?.serviceName ?? '',
    attributes: s.tags ?? {},
    error: s.tags?.error !== undefined,
  }));
}

function startReceiver(path: string, decode: (body: unknown) => ReceivedSpan[]): Promise<SpanReceiver> {
  const receiver: SpanReceiver = { port: 0, spans: [], posts: 0, status: 200, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.posts++;
      if (req.method !== 'POST' || req.url !== path) {
        res.writeHead(404).end();
        return;
      }
      if (!(req.headers['content-type'] ?? '').includes('json')) {
        res.writeHead(415).end('only JSON is decoded here');
        return;
      }
      if (receiver.status !== 200) {
        res.writeHead(receiver.status).end();
        return;
      }
      receiver.spans.push(...decode(JSON.parse(Buffer.concat(chunks).toString())));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      receiver.port = (server.address() as AddressInfo).port;
      receiver.close = () => new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      });
      resolve(receiver);
    });
  });
}

export function startOtlpReceiver(): Promise<SpanReceiver> {
  return startReceiver('/v1/traces', (body) => decodeOtlp(body as OtlpRequest));
}

export function startZipkinReceiver(): Promise<SpanReceiver> {
  return startReceiver('/api/v2/spans', (body) => decodeZipkin(body as ZipkinSpan[]));
}
