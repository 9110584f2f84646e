// The `istio.stats` HTTP filter as Istio configures it: a TypedStruct of stats.PluginConfig placed
// before the router. The metrics themselves are reported by the connection manager's observer
// (telemetry/istio-metrics.ts), which reads the same config for its overrides; in the chain the
// filter only passes requests on. Its config is checked here, so a bad override is rejected with the
// listener's other errors.
import { FieldPath, checkFields, type Message } from '../../../upstream/envoy-config.ts';
import { compilePluginConfig, pluginConfigTypeUrl } from '../../../telemetry/stats-plugin-config.ts';
import { PassThroughFilter, type HttpFilter } from '../filter.ts';
import { registerHttpFilter, type HttpFilterContext } from '../registry.ts';

const typedStructFields = new Set(['@type', 'type_url', 'value']);

export function compileIstioStats(config: Message, at: FieldPath, name: string): (context: HttpFilterContext) => HttpFilter {
  checkFields(at, config, typedStructFields);
  compilePluginConfig(at.field('value'), config.value);
  const filter = new PassThroughFilter(name || 'istio.stats');
  return () => filter;
}

export function register(): void {
  registerHttpFilter(pluginConfigTypeUrl, compileIstioStats);
}
