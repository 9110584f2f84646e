// An OTLP/HTTP trace receiver on 127.0.0.1 (what an OpenTelemetry collector offers on :4318): it
// accepts POST /v1/traces in OTLP's JSON encoding and keeps every span it was sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  /** The exporting process's resource attribute service.name. */
  serviceName: string;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests it could not read (wrong path, content type or body), to explain a missing trace. */
  readonly rejected: string[] = [];
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const type = String(req.headers['content-type'] ?? '');
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          receiver.rejected.push(`${req.method} ${req.url}`);
          res.writeHead(404).end();
          return;
        }
        if (!type.includes('json')) {
          receiver.rejected.push(`content-type ${type} (this receiver reads OTLP JSON)`);
          res.writeHead(415).end();
          return;
        }
        try {
          receiver.take(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          receiver.rejected.push(`unreadable body: ${(err as Error).message}`);
          res.writeHead(400).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  private take(body: any): void {
    for (const rs of body.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: hexId(s.traceId), spanId: hexId(s.spanId), parentSpanId: hexId(s.parentSpanId),
            name: String(s.name ?? ''), kind: spanKind(s.kind), attributes: attributes(s.attributes),
            serviceName: String(resource['service.name'] ?? ''),
          });
        }
      }
    }
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** OTLP JSON writes ids as hex; some encoders write base64 (protobuf JSON's bytes). */
function hexId(id: unknown): string {
  if (typeof id !== 'string' || id === '') return '';
  if (/^[0-9a-fA-F]+$/.test(id) && (id.length === 32 || id.length === 16)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

function spanKind(kind: unknown): number {
  if (typeof kind === 'number') return kind;
  const names: Record<string, number> = { SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 };
  return names[String(kind)] ?? 0;
}

function attributes(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const a of list) {
    const v = a?.value ?? {};
    out[a.key] = v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? v.arrayValue ?? v.kvlistValue;
  }
  return out;
}
