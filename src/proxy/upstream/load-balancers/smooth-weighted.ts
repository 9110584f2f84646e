// Smooth weighted round robin (nginx's algorithm): over every cycle each item is chosen in proportion
// to its weight, interleaved rather than in bursts (Envoy's EDF scheduler gives the same proportions).
// Shared by the round robin balancer (over hosts) and the locality picker (over locality balancers).
export class SmoothWeightedRotation {
  readonly weights: Float64Array;
  readonly current: Float64Array;
  readonly total: number;

  constructor(weights: Float64Array) {
    this.weights = weights;
    this.current = new Float64Array(weights.length);
    this.total = weights.reduce((a, b) => a + b, 0);
  }

  /** The index of the next item. */
  next(): number {
    const { weights, current } = this;
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= this.total;
    return best;
  }
}
