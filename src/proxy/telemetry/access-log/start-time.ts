// %START_TIME(...)%: the strftime subset Envoy's access logs are usually written with, in UTC, plus
// Envoy's own %f (fractional seconds; %3f, %6f, %9f for a given number of digits) and %s (epoch
// seconds). Compiled once into a list of pieces; an unknown conversion rejects the config.
import type { FieldPath } from '../../upstream/envoy-config.ts';

type Piece = string | ((d: Date, ms: number) => string);

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

const conversions: Record<string, (d: Date, ms: number) => string> = {
  Y: (d) => String(d.getUTCFullYear()),
  m: (d) => pad(d.getUTCMonth() + 1),
  d: (d) => pad(d.getUTCDate()),
  e: (d) => String(d.getUTCDate()).padStart(2, ' '),
  H: (d) => pad(d.getUTCHours()),
  M: (d) => pad(d.getUTCMinutes()),
  S: (d) => pad(d.getUTCSeconds()),
  j: (d) => pad(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3),
  y: (d) => pad(d.getUTCFullYear() % 100),
  z: () => '+0000',
  Z: () => 'UTC',
  s: (_d, ms) => String(Math.floor(ms / 1000)),
  F: (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
  T: (d) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
  '%': () => '%',
};

/** Fractional seconds with `digits` digits (the clock has microsecond precision at best). */
function fraction(digits: number): (d: Date, ms: number) => string {
  return (_d, ms) => {
    const nanos = Math.floor((ms % 1000) * 1e6);
    return pad(nanos, 9).slice(0, digits);
  };
}

export function compileStrftime(at: FieldPath, format: string): (epochMs: number) => string {
  const pieces: Piece[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      literal += c;
      continue;
    }
    let j = i + 1;
    let digits = 9;
    if (/[1-9]/.test(format[j] ?? '') && format[j + 1] === 'f') {
      digits = Number(format[j]);
      j++;
    }
    const conv = format[j];
    const fn = conv === 'f' ? fraction(digits) : conversions[conv ?? ''];
    if (fn === undefined) at.reject(`%START_TIME(${format})% has the unsupported conversion %${conv ?? ''}`);
    if (literal !== '') pieces.push(literal);
    literal = '';
    pieces.push(fn);
    i = j;
  }
  if (literal !== '') pieces.push(literal);
  return (epochMs) => {
    const d = new Date(epochMs);
    let out = '';
    for (const p of pieces) out += typeof p === 'string' ? p : p(d, epochMs);
    return out;
  };
}
