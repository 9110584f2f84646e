// A listener's listener_filters → the inspectors run on each accepted connection before a filter
// chain is chosen: tls_inspector and http_inspector (by typed_config type, or by name when there is
// none), each optionally turned off per connection by filter_disabled (Envoy's
// ListenerFilterChainMatchPredicate: any_match, destination_port_range, and/or/not), plus the
// listener's listener_filters_timeout (Envoy's default 15 s; 0: none) and
// continue_on_listener_filters_timeout.
import { TypeUrl } from '../../xds/type-urls.ts';
import {
  FieldPath, bool, boolWrapper, checkFields, durationMs, integer, isPresent, message, optionalMessage, repeated, string,
  typeUrlOf, uintWrapper, type Message,
} from '../upstream/envoy-config.ts';
import { HttpInspector } from './http-inspector.ts';
import type { ListenerInspector } from './listener-inspector.ts';
import { TlsInspector } from './tls-inspector.ts';

/** Whether a listener filter is off for a connection, by its destination port. */
export type DisabledPredicate = (destinationPort: number) => boolean;

export type ListenerFilterSpec = {
  name: string;
  create: () => ListenerInspector;
  /** null: always on. */
  disabled: DisabledPredicate | null;
};

export type ListenerFiltersSpec = {
  filters: ListenerFilterSpec[];
  /** 0: no timeout. */
  timeoutMs: number;
  continueOnTimeout: boolean;
};

const tlsInspectorName = 'envoy.filters.listener.tls_inspector';
const httpInspectorName = 'envoy.filters.listener.http_inspector';
/** Envoy's default listener_filters_timeout. */
const defaultListenerFiltersTimeoutMs = 15_000;

const listenerFilterFields = new Set(['name', 'typed_config', 'filter_disabled']);

export function compileListenerFilters(root: FieldPath, listener: Message): ListenerFiltersSpec {
  const filters = repeated(root.field('listener_filters'), listener.listener_filters).map((value, i) => {
    const at = root.field('listener_filters').item(i);
    const filter = message(at, value);
    checkFields(at, filter, listenerFilterFields);
    const name = string(at.field('name'), filter.name) ?? '';
    const typed = optionalMessage(at.field('typed_config'), filter.typed_config);
    const typeUrl = typed ? typeUrlOf(typed) : '';
    let kind: 'tls' | 'http';
    if (typeUrl === TypeUrl.TlsInspector || (typeUrl === '' && name === tlsInspectorName)) kind = 'tls';
    else if (typeUrl === TypeUrl.HttpInspector || (typeUrl === '' && name === httpInspectorName)) kind = 'http';
    else throw at.error(`(${name || 'unnamed'}) ${typeUrl || 'filter'} is not supported (tls_inspector and http_inspector are)`);
    const tp = at.field('typed_config');
    if (kind === 'tls' && typed) {
      checkFields(tp, typed, new Set(['@type', 'type_url', 'enable_ja3_fingerprinting', 'initial_read_buffer_size']));
      if (boolWrapper(tp.field('enable_ja3_fingerprinting'), typed.enable_ja3_fingerprinting) === true) {
        tp.field('enable_ja3_fingerprinting').reject('true is not supported');
      }
      // A read size hint: inspection reads what arrives, up to Envoy's 64 KiB limit, whatever its value.
      const size = uintWrapper(tp.field('initial_read_buffer_size'), typed.initial_read_buffer_size);
      if (size !== undefined && (size <= 255 || size >= 65537)) tp.field('initial_read_buffer_size').reject(`${size} is out of range (256..65536)`);
    }
    if (kind === 'http' && typed) checkFields(tp, typed, new Set(['@type', 'type_url']));
    const disabled = isPresent(filter.filter_disabled) ? compilePredicate(at.field('filter_disabled'), filter.filter_disabled) : null;
    const spec: ListenerFilterSpec = {
      name: name || (kind === 'tls' ? tlsInspectorName : httpInspectorName),
      create: kind === 'tls' ? () => new TlsInspector() : () => new HttpInspector(),
      disabled,
    };
    return spec;
  });
  return {
    filters,
    timeoutMs: durationMs(root.field('listener_filters_timeout'), listener.listener_filters_timeout) ?? defaultListenerFiltersTimeoutMs,
    continueOnTimeout: bool(root.field('continue_on_listener_filters_timeout'), listener.continue_on_listener_filters_timeout) ?? false,
  };
}

const predicateFields = new Set(['or_match', 'and_match', 'not_match', 'any_match', 'destination_port_range']);

/** ListenerFilterChainMatchPredicate → a function of the connection's destination port. */
function compilePredicate(at: FieldPath, value: unknown): DisabledPredicate {
  const p = message(at, value);
  checkFields(at, p, predicateFields);
  const set = Object.keys(p).filter((k) => isPresent(p[k]));
  if (set.length !== 1) at.reject(`must set exactly one rule (${[...predicateFields].join(', ')})`);
  const rule = set[0];
  const rp = at.field(rule);
  switch (rule) {
    case 'any_match':
      if (bool(rp, p.any_match) !== true) rp.reject('must be true');
      return () => true;
    case 'not_match': {
      const inner = compilePredicate(rp, p.not_match);
      return (port) => !inner(port);
    }
    case 'or_match':
    case 'and_match': {
      const setMessage = message(rp, p[rule]);
      checkFields(rp, setMessage, new Set(['rules']));
      const rules = repeated(rp.field('rules'), setMessage.rules).map((r, i) => compilePredicate(rp.field('rules').item(i), r));
      if (rules.length < 2) rp.field('rules').reject('must have at least 2 rules');
      return rule === 'or_match' ? (port) => rules.some((r) => r(port)) : (port) => rules.every((r) => r(port));
    }
    default: {
      // type.v3.Int32Range: [start, end).
      const range = message(rp, p.destination_port_range);
      checkFields(rp, range, new Set(['start', 'end']));
      const start = integer(rp.field('start'), range.start) ?? 0;
      const end = integer(rp.field('end'), range.end) ?? 0;
      if (end < start) rp.reject(`end ${end} is before start ${start}`);
      return (port) => port >= start && port < end;
    }
  }
}
