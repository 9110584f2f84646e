// envoy.extensions.filters.http.router.v3.Router → the router filter of a connection manager.
import { TypeUrl } from '../../../../xds/type-urls.ts';
import { FieldPath, bool, boolWrapper, checkFields, type Message } from '../../../upstream/envoy-config.ts';
import type { HttpFilter } from '../filter.ts';
import { registerHttpFilter, type HttpFilterContext } from '../registry.ts';
import { RouterFilter } from './filter.ts';

// dynamic_stats and start_child_span only shape stats and tracing spans; suppress_envoy_headers is
// honoured trivially (the router adds no x-envoy-* headers);
// suppress_grpc_request_failure_code_stats has no gRPC stats to suppress yet.
const routerFields = new Set(['@type', 'type_url', 'dynamic_stats', 'start_child_span', 'suppress_envoy_headers', 'suppress_grpc_request_failure_code_stats']);

export function compileRouterConfig(config: Message, at: FieldPath): (context: HttpFilterContext) => HttpFilter {
  checkFields(at, config, routerFields);
  boolWrapper(at.field('dynamic_stats'), config.dynamic_stats);
  bool(at.field('start_child_span'), config.start_child_span);
  bool(at.field('suppress_envoy_headers'), config.suppress_envoy_headers);
  return (context) => new RouterFilter(context.stats);
}

export function register(): void {
  registerHttpFilter(TypeUrl.Router, compileRouterConfig);
}
