// envoy.filters.http.ext_authz's counters live with the connection manager's stats (Envoy:
// http.<stat_prefix>.ext_authz.[<filter stat_prefix>.]*), one set per filter stat_prefix, found once
// when the filter is built (config time), never per request.
import type { ExtAuthzStats, HttpConnectionManagerStats } from '../../../telemetry/stat-objects.ts';

export { ExtAuthzStats } from '../../../telemetry/stat-objects.ts';

/** The counters of the ext_authz filters with `statPrefix`: the same object across config updates. */
export function extAuthzStats(stats: HttpConnectionManagerStats, statPrefix: string): ExtAuthzStats {
  return stats.extAuthzStats(statPrefix);
}

/** Every ext_authz counter set of a connection manager (for tests). */
export function extAuthzStatsOf(stats: HttpConnectionManagerStats): ReadonlyMap<string, ExtAuthzStats> {
  return stats.extAuthz ?? new Map();
}
