// HTTP filters are registered by the type URL of their typed_config (DESIGN.md habit 1); each folder
// under filters/ has a config.ts that turns the Envoy config into a filter and a register() that is
// called once at start (filters/index.ts). A filter that reads per-route configuration
// (typed_per_filter_config on routes and virtual hosts) also registers a per-route compiler; route
// configurations are compiled with it when they arrive, never per request.
import type { Logger } from '../../../common/log.ts';
import type { HttpConnectionManagerStats } from '../../telemetry/stat-objects.ts';
import type { FieldPath, Message } from '../../upstream/envoy-config.ts';
import type { HttpFilter } from './filter.ts';

/** What a filter may use from the connection manager that runs it. */
export type HttpFilterContext = {
  readonly stats: HttpConnectionManagerStats;
  readonly logger: Logger;
};

/**
 * Validates a filter's typed_config (throwing ConfigRejectedError through `at`) and returns a factory
 * that builds the filter for one connection manager. `name` is the filter's name in the connection
 * manager's http_filters, the key under which routes carry its per-route config.
 */
export type HttpFilterConfigCompiler = (config: Message, at: FieldPath, name: string) => (context: HttpFilterContext) => HttpFilter;

/**
 * Validates a per-route config (a route's or virtual host's typed_per_filter_config entry of this
 * filter's type) and returns what the filter reads from `route.perFilterConfig` at request time.
 */
export type HttpFilterPerRouteCompiler = (config: Message, at: FieldPath) => object;

const compilers = new Map<string, HttpFilterConfigCompiler>();
const perRouteCompilers = new Map<string, HttpFilterPerRouteCompiler>();

export function registerHttpFilter(typeUrl: string, compile: HttpFilterConfigCompiler, compilePerRoute?: HttpFilterPerRouteCompiler): void {
  compilers.set(typeUrl, compile);
  if (compilePerRoute !== undefined) perRouteCompilers.set(typeUrl, compilePerRoute);
}

export function httpFilterCompiler(typeUrl: string): HttpFilterConfigCompiler | undefined {
  return compilers.get(typeUrl);
}

export function httpFilterPerRouteCompiler(typeUrl: string): HttpFilterPerRouteCompiler | undefined {
  return perRouteCompilers.get(typeUrl);
}
