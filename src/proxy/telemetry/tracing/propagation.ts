// Trace context in request headers: W3C Trace Context (`traceparent`, `tracestate`) and B3, both the
// single `b3` header and the multi `x-b3-*` headers. A request's context is read in that order of
// preference; the context going upstream is written in both forms, so that an application
// instrumented with OpenTelemetry (W3C) and one instrumented with Zipkin (B3) both continue the trace.
//
// Headers are the connection manager's flat [name, value, ...] list with lower-cased names.
import { removeHeader, setHeader } from '../../http/header-list.ts';
import { allZeros } from './ids.ts';

/** A request's sampling decision: made upstream of us (Yes/No) or left to us (Unknown). */
export const Sampled = { Unknown: -1, No: 0, Yes: 1 } as const;
export type Sampled = (typeof Sampled)[keyof typeof Sampled];

/** The trace context a request arrived with. */
export interface IncomingContext {
  /** 32 hex digits (a 64-bit B3 id is left-padded with zeros); '' when only a sampling decision came. */
  traceId: string;
  /** The caller's span: 16 hex digits, '' with traceId ''. */
  spanId: string;
  /** B3's x-b3-parentspanid (the caller's parent), '' when absent. */
  parentSpanId: string;
  sampled: Sampled;
  /** W3C tracestate, carried on untouched; '' when absent. */
  traceState: string;
  /** The trace id came as 64 bits in B3: B3 headers going on keep that length. */
  shortTraceId: boolean;
  /** The request carried a single `b3` header (it is rewritten rather than left stale). */
  b3Single: boolean;
}

/** The context the proxy sends upstream (its own span as the parent of what follows). */
export interface OutgoingContext {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  sampled: boolean;
  traceState: string;
  shortTraceId: boolean;
  b3Single: boolean;
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const b3SinglePattern = /^([0-9a-f]{32}|[0-9a-f]{16})-([0-9a-f]{16})(?:-([01d])(?:-([0-9a-f]{16}))?)?$/;
const hex16 = /^[0-9a-f]{16}$/;
const hexTraceId = /^(?:[0-9a-f]{32}|[0-9a-f]{16})$/;
const zeros16 = '0000000000000000';

function emptyContext(): IncomingContext {
  return { traceId: '', spanId: '', parentSpanId: '', sampled: Sampled.Unknown, traceState: '', shortTraceId: false, b3Single: false };
}

/**
 * The trace context of a request: `traceparent` when valid, else `b3`, else the `x-b3-*` headers; null
 * when the request carries none (nor a bare sampling decision). Invalid headers are ignored, as the
 * specifications ask (a new trace starts).
 */
export function extractContext(headers: readonly string[]): IncomingContext | null {
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  let b3: string | undefined;
  let b3TraceId: string | undefined;
  let b3SpanId: string | undefined;
  let b3Parent: string | undefined;
  let b3Sampled: string | undefined;
  let b3Flags: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    // Every name of interest starts with t, b or x: one comparison rules out most headers.
    const c = name.charCodeAt(0);
    if (c !== 116 && c !== 98 && c !== 120) continue;
    const value = headers[i + 1];
    switch (name) {
      case 'traceparent': traceparent ??= value; break;
      case 'tracestate': tracestate = tracestate === undefined ? value : `${tracestate},${value}`; break;
      case 'b3': b3 ??= value; break;
      case 'x-b3-traceid': b3TraceId ??= value; break;
      case 'x-b3-spanid': b3SpanId ??= value; break;
      case 'x-b3-parentspanid': b3Parent ??= value; break;
      case 'x-b3-sampled': b3Sampled ??= value; break;
      case 'x-b3-flags': b3Flags ??= value; break;
    }
  }
  if (traceparent !== undefined) {
    const ctx = parseTraceparent(traceparent.trim().toLowerCase());
    if (ctx !== null) {
      ctx.traceState = tracestate ?? '';
      ctx.b3Single = b3 !== undefined;
      // A 64-bit B3 trace travelling alongside its padded W3C form stays 64-bit in B3.
      ctx.shortTraceId = ctx.traceId.startsWith(zeros16) && (b3TraceId?.trim().length === 16 || b3?.trim().indexOf('-') === 16);
      // B3 alongside for the same span knows the caller's parent, which W3C does not carry.
      if (b3SpanId?.trim().toLowerCase() === ctx.spanId && b3Parent !== undefined && hex16.test(b3Parent.trim().toLowerCase())) {
        ctx.parentSpanId = b3Parent.trim().toLowerCase();
      }
      return ctx;
    }
  }
  if (b3 !== undefined) {
    const ctx = parseB3Single(b3.trim().toLowerCase());
    if (ctx !== null) return ctx;
  }
  if (b3TraceId !== undefined || b3Sampled !== undefined || b3Flags !== undefined) return parseB3Multi(b3TraceId, b3SpanId, b3Parent, b3Sampled, b3Flags);
  return null;
}

function parseTraceparent(value: string): IncomingContext | null {
  const m = traceparentPattern.exec(value);
  if (m === null) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is forbidden; version 00 has exactly four fields (later versions may add some).
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (allZeros(traceId) || allZeros(spanId)) return null;
  const ctx = emptyContext();
  ctx.traceId = traceId;
  ctx.spanId = spanId;
  ctx.sampled = (parseInt(flags, 16) & 1) === 1 ? Sampled.Yes : Sampled.No;
  return ctx;
}

function b3SamplingState(state: string | undefined): Sampled {
  if (state === undefined) return Sampled.Unknown;
  return state === '0' ? Sampled.No : Sampled.Yes; // '1' or 'd' (debug: sampled)
}

function parseB3Single(value: string): IncomingContext | null {
  if (value === '0' || value === '1' || value === 'd') {
    const ctx = emptyContext();
    ctx.sampled = b3SamplingState(value);
    ctx.b3Single = true;
    return ctx;
  }
  const m = b3SinglePattern.exec(value);
  if (m === null) return null;
  const [, traceId, spanId, state, parent] = m;
  if (allZeros(traceId) || allZeros(spanId)) return null;
  const ctx = emptyContext();
  ctx.shortTraceId = traceId.length === 16;
  ctx.traceId = ctx.shortTraceId ? zeros16 + traceId : traceId;
  ctx.spanId = spanId;
  ctx.parentSpanId = parent ?? '';
  ctx.sampled = b3SamplingState(state);
  ctx.b3Single = true;
  return ctx;
}

function parseB3Multi(traceIdRaw: string | undefined, spanIdRaw: string | undefined, parentRaw: string | undefined,
  sampledRaw: string | undefined, flags: string | undefined): IncomingContext | null {
  const ctx = emptyContext();
  if (flags?.trim() === '1') ctx.sampled = Sampled.Yes; // debug
  else if (sampledRaw !== undefined) {
    const s = sampledRaw.trim().toLowerCase();
    if (s === '1' || s === 'true') ctx.sampled = Sampled.Yes;
    else if (s === '0' || s === 'false') ctx.sampled = Sampled.No;
  }
  const traceId = traceIdRaw?.trim().toLowerCase();
  const spanId = spanIdRaw?.trim().toLowerCase();
  if (traceId !== undefined && spanId !== undefined && hexTraceId.test(traceId) && hex16.test(spanId) && !allZeros(traceId) && !allZeros(spanId)) {
    ctx.shortTraceId = traceId.length === 16;
    ctx.traceId = ctx.shortTraceId ? zeros16 + traceId : traceId;
    ctx.spanId = spanId;
    const parent = parentRaw?.trim().toLowerCase();
    if (parent !== undefined && hex16.test(parent) && !allZeros(parent)) ctx.parentSpanId = parent;
  }
  if (ctx.traceId === '' && ctx.sampled === Sampled.Unknown) return null;
  return ctx;
}

/**
 * Writes `ctx` into the request headers going upstream: traceparent (and tracestate when there is one)
 * and the x-b3-* headers, replacing what the request carried; a `b3` header the request carried is
 * rewritten too, so that no stale context is left for a reader that prefers it.
 */
export function injectContext(headers: string[], ctx: OutgoingContext): void {
  const flag = ctx.sampled ? '1' : '0';
  setHeader(headers, 'traceparent', `00-${ctx.traceId}-${ctx.spanId}-0${flag}`);
  if (ctx.traceState !== '') setHeader(headers, 'tracestate', ctx.traceState);
  else removeHeader(headers, 'tracestate');
  const b3TraceId = ctx.shortTraceId ? ctx.traceId.slice(16) : ctx.traceId;
  setHeader(headers, 'x-b3-traceid', b3TraceId);
  setHeader(headers, 'x-b3-spanid', ctx.spanId);
  if (ctx.parentSpanId !== '') setHeader(headers, 'x-b3-parentspanid', ctx.parentSpanId);
  else removeHeader(headers, 'x-b3-parentspanid');
  setHeader(headers, 'x-b3-sampled', flag);
  if (ctx.b3Single) {
    const parent = ctx.parentSpanId === '' ? '' : `-${ctx.parentSpanId}`;
    setHeader(headers, 'b3', `${b3TraceId}-${ctx.spanId}-${flag}${parent}`);
  }
}

