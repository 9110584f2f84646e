// A finished span as the OpenTelemetry SDK's exporters read it (its ReadableSpan), built once when the
// exchange is over: no SDK Span or context objects exist per request, only this plain record.
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanContext, type SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';

export const instrumentationScope: InstrumentationScope = { name: 'weft-proxy' };
const noLinks: never[] = [];
const noEvents: TimedEvent[] = [];
const ok: SpanStatus = { code: SpanStatusCode.UNSET };
const failed: SpanStatus = { code: SpanStatusCode.ERROR };

/** performance.now() milliseconds → wall-clock HrTime. */
export function hrTimeOf(performanceMs: number): HrTime {
  const epochMs = performance.timeOrigin + performanceMs;
  const seconds = Math.floor(epochMs / 1000);
  return [seconds, Math.round((epochMs - seconds * 1000) * 1e6)];
}

/** A span's resource until its sink sets the real one, just before it is exported. */
const notYetExported = {} as Resource;

function hrDuration(start: HrTime, end: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1e9;
  }
  return [seconds, nanos];
}

export class ProxySpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links = noLinks;
  readonly events = noEvents;
  readonly ended = true;
  /** The service's resource: set by the span sink when it exports the span (exporter.ts loads that module then). */
  resource: Resource = notYetExported;
  readonly instrumentationScope = instrumentationScope;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  private readonly context: SpanContext;

  constructor(name: string, server: boolean, traceId: string, spanId: string, parentSpanId: string, startMs: number, endMs: number,
    error: boolean, attributes: Attributes) {
    this.name = name;
    this.kind = server ? SpanKind.SERVER : SpanKind.CLIENT;
    this.context = { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
    this.parentSpanContext = parentSpanId === '' ? undefined : { traceId, spanId: parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
    this.startTime = hrTimeOf(startMs);
    this.endTime = hrTimeOf(endMs);
    this.duration = hrDuration(this.startTime, this.endTime);
    this.status = error ? failed : ok;
    this.attributes = attributes;
  }

  spanContext(): SpanContext {
    return this.context;
  }
}
