// Istio's standard metrics (istio_requests_total, istio_request_duration_milliseconds,
// istio_request_bytes, istio_response_bytes, istio_tcp_*) reported by every connection manager and
// tcp_proxy of the proxy, with Istio's labels, and the peer metadata exchange that lets both
// reporters name both ends. They are on by default, as Istio's stats filter is on every sidecar; an
// `istio.stats` filter in a connection manager's http_filters carries Istio's PluginConfig, whose
// overrides (drop, tags_to_remove, dimensions) apply to that connection manager's reports.
//
// The families live in the proxy's registry (ProxyStats.istio), so /stats/prometheus shows them.
import { registerStreamObserver } from '../http/stream-observers.ts';
import { registerTcpObserver } from '../tcp/tcp-observers.ts';
import { typedStructTypeUrl } from '../http/filters/typed-struct.ts';
import { register as registerIstioStatsFilter } from '../http/filters/istio-stats/config.ts';
import {
  FieldPath, bool, message, optionalMessage, repeated, string, typeUrlOf, type Message,
} from '../upstream/envoy-config.ts';
import { IstioHttpMetrics } from './istio-http-metrics.ts';
import { IstioTcpMetrics } from './istio-tcp-metrics.ts';
import { compilePluginConfig, noOverrides, pluginConfigTypeUrl, type StatsOverrides } from './stats-plugin-config.ts';


/**
 * The overrides of a connection manager: those of its `istio.stats` filters (a TypedStruct of
 * stats.PluginConfig); none when it has no such filter. A disabled filter is left out, as it would be
 * from the chain.
 */
function overridesOf(at: FieldPath, hcm: Message): StatsOverrides {
  const filters = repeated(at.field('http_filters'), hcm.http_filters);
  let found: StatsOverrides = noOverrides;
  filters.forEach((entry, i) => {
    const fp = at.field('http_filters').item(i);
    const f = message(fp, entry);
    if (bool(fp.field('disabled'), f.disabled) === true) return;
    const typed = optionalMessage(fp.field('typed_config'), f.typed_config);
    if (typed === undefined || typeUrlOf(typed) !== typedStructTypeUrl) return;
    if (string(fp.field('typed_config').field('type_url'), typed.type_url) !== pluginConfigTypeUrl) return;
    found = compilePluginConfig(fp.field('typed_config').field('value'), typed.value);
  });
  return found;
}

let registered = false;

/** Registers the metrics as an observer of every connection manager and tcp_proxy; once at start. */
export function register(): void {
  if (registered) return;
  registered = true;
  registerIstioStatsFilter();
  registerStreamObserver([], (at, config) => {
    const overrides = overridesOf(at, config);
    return (context) => new IstioHttpMetrics(context, context.stats.istio, overrides);
  });
  registerTcpObserver([], () => (context) => new IstioTcpMetrics(context, context.stats.istio, context.statsOverrides ?? noOverrides));
}
