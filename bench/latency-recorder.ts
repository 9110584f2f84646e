// Latencies in milliseconds, kept exactly (a benchmark records at most a few million) and sorted once
// for percentiles (nearest rank).

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class LatencyRecorder {
  private values: Float64Array;
  private count: number;

  constructor(capacity = 16_384) {
    this.values = new Float64Array(Math.max(16, capacity));
    this.count = 0;
  }

  record(ms: number): void {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = ms;
  }

  percentiles(): Percentiles {
    const sorted = this.values.slice(0, this.count).sort();
    const n = sorted.length;
    const at = (q: number): number => (n === 0 ? NaN : sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i];
    return { count: n, mean: n ? sum / n : NaN, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: n ? sorted[n - 1] : NaN };
  }
}
