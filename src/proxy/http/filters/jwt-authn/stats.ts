// envoy.filters.http.jwt_authn's counters live with the connection manager's stats (Envoy: http.<stat_prefix>.jwt_authn.*).
import type { HttpConnectionManagerStats, JwtAuthnStats } from '../../../telemetry/stat-objects.ts';

export { JwtAuthnStats } from '../../../telemetry/stat-objects.ts';

/** The JWT filter's stats of a connection manager, created on first use (config time). */
export function jwtAuthnStatsOf(stats: HttpConnectionManagerStats): JwtAuthnStats {
  return stats.jwtAuthnStats();
}
