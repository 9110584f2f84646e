// Envoy's slow start mode (round_robin_lb_config / least_request_lb_config slow_start_config; Istio's
// warmupDurationSecs / warmup): an endpoint's weight ramps up over slow_start_window from the time it
// joined the cluster as healthy, NewWeight = Weight * max(MinWeightPercent, TimeFactor ^ (1 / Aggression))
// with TimeFactor = max(age, 1 ms) / window. As in Envoy, endpoints present when the cluster is created
// are new too, and only healthy endpoints ramp (a degraded one keeps its weight).
import { FieldPath, checkFields, durationMs, isPresent, message, optionalMessage, type Message } from '../envoy-config.ts';

export type SlowStartConfig = {
  windowMs: number;
  aggression: number;
  /** 0..1 */
  minWeight: number;
};

const slowStartFields = new Set(['slow_start_window', 'aggression', 'min_weight_percent']);
const runtimeDoubleFields = new Set(['default_value', 'runtime_key']);

/** null when absent or when the window is 0 (Envoy: no slow start). */
export function compileSlowStart(at: FieldPath, value: unknown): SlowStartConfig | null {
  const m = optionalMessage(at, value);
  if (!m) return null;
  checkFields(at, m, slowStartFields);
  const windowMs = durationMs(at.field('slow_start_window'), m.slow_start_window) ?? 0;
  const aggression = runtimeDouble(at.field('aggression'), m.aggression) ?? 1;
  if (!(aggression > 0)) at.field('aggression').field('default_value').reject('must be greater than 0');
  const minWeight = percent(at.field('min_weight_percent'), m.min_weight_percent) ?? 10;
  if (windowMs === 0) return null;
  return { windowMs, aggression, minWeight: minWeight / 100 };
}

/** The factor (min_weight..1) on the weight of an endpoint healthy for `ageMs`; 1 once its window is over. */
export function slowStartFactor(config: SlowStartConfig, ageMs: number): number {
  if (ageMs >= config.windowMs) return 1;
  const timeFactor = Math.max(ageMs, 1) / config.windowMs;
  const ramp = config.aggression === 1 ? timeFactor : Math.pow(timeFactor, 1 / config.aggression);
  return Math.max(ramp, config.minWeight);
}

/**
 * envoy.config.core.v3.RuntimeDouble: `{default_value, runtime_key}`. There is no runtime layer, so the
 * default value is the value (a runtime key names nothing that could override it).
 */
export function runtimeDouble(at: FieldPath, value: unknown): number | undefined {
  const m = optionalMessage(at, value);
  if (!m) return undefined;
  checkFields(at, m, runtimeDoubleFields);
  return double(at.field('default_value'), m.default_value) ?? 0;
}

/** envoy.type.v3.Percent `{value}` (0..100). */
export function percent(at: FieldPath, value: unknown): number | undefined {
  if (!isPresent(value)) return undefined;
  const m: Message = message(at, value);
  checkFields(at, m, new Set(['value']));
  const v = double(at.field('value'), m.value) ?? 0;
  if (v < 0 || v > 100) at.field('value').reject('must be between 0 and 100');
  return v;
}

function double(at: FieldPath, value: unknown): number | undefined {
  if (!isPresent(value)) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) at.reject(`must be a number, got ${JSON.stringify(value)}`);
  return n;
}
