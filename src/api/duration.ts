// Istio durations as users write them in YAML: Go's time.ParseDuration syntax, which is what
// Istio's CRD validation (CEL `duration()`) accepts: `1s`, `0.5s`, `100ms`, `1m`, `1h`, `1h30m`,
// `250us`, `10ns`. A bare `0` is allowed (Go allows it); signs are not.

const MS_PER_UNIT: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

// One `<number><unit>` part; `ms` and `ns` are tried before `m` and `s`.
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds in an Istio duration string (may be fractional: `1500us` is 1.5), or undefined if malformed. */
export function parseDuration(s: string): number | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  if (s === '0') return 0;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    PART.lastIndex = at;
    const m = PART.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * MS_PER_UNIT[m[2]];
    at = PART.lastIndex;
  }
  // Round to whole nanoseconds so `0.001s` is exactly 1 and not 0.999...
  return Math.round(total * 1e6) / 1e6;
}
