// envoy.type.v3.FractionalPercent, compiled once: per request it costs one Math.random() at most (none
// at 0% or 100%). Envoy's test: a random value modulo the denominator is below the numerator (the
// numerator capped at the denominator).
import { FieldPath, checkFields, integer, optionalMessage } from '../../../upstream/envoy-config.ts';

const denominators: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };
const fractionalPercentFields = new Set(['numerator', 'denominator']);

export class FractionalPercent {
  readonly numerator: number;
  readonly denominator: number;

  constructor(numerator: number, denominator: number) {
    this.numerator = numerator < denominator ? numerator : denominator;
    this.denominator = denominator;
  }

  /** Whether this request is in the percentage. */
  roll(): boolean {
    const n = this.numerator;
    if (n === 0) return false;
    if (n === this.denominator) return true;
    return Math.floor(Math.random() * this.denominator) < n;
  }
}

/** An absent percentage is 0% (Envoy's default-constructed FractionalPercent). */
export function compileFractionalPercent(at: FieldPath, value: unknown): FractionalPercent {
  const p = optionalMessage(at, value);
  if (p === undefined) return new FractionalPercent(0, 100);
  checkFields(at, p, fractionalPercentFields);
  const numerator = integer(at.field('numerator'), p.numerator) ?? 0;
  if (numerator < 0) at.field('numerator').reject('must not be negative');
  const name = (p.denominator ?? 'HUNDRED') as unknown;
  const denominator = typeof name === 'number' ? [100, 10_000, 1_000_000][name] : denominators[String(name)];
  if (denominator === undefined) at.field('denominator').reject(`${String(name)} is not one of HUNDRED, TEN_THOUSAND, MILLION`);
  return new FractionalPercent(numerator, denominator);
}
