// envoy.filters.http.cors's counters live with the connection manager's stats (Envoy: http.<stat_prefix>.cors.*).
export { CorsFilterStats } from '../../../telemetry/stat-objects.ts';
