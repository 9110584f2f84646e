// HTTP filters are registered by the type URL of their typed_config (DESIGN.md habit 1); each folder
// under filters/ has a config.ts that turns the Envoy config into a filter and a register() that is
// called once at start (filters/index.ts).
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
 * that builds the filter for one connection manager.
 */
export type HttpFilterConfigCompiler = (config: Message, at: FieldPath) => (context: HttpFilterContext) => HttpFilter;

const compilers = new Map<string, HttpFilterConfigCompiler>();

export function registerHttpFilter(typeUrl: string, compile: HttpFilterConfigCompiler): void {
  compilers.set(typeUrl, compile);
}

export function httpFilterCompiler(typeUrl: string): HttpFilterConfigCompiler | undefined {
  return compilers.get(typeUrl);
}
