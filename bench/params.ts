// The benchmark's parameters, all from env vars (docs/benchmarks.md lists them).
import { join } from 'node:path';
import { repoRoot } from '../test/harness/mesh.ts';
import type { Body } from './bodies.ts';
import { defaultTargets, targetIds, type TargetId } from './target.ts';

export type Protocol = 'h1' | 'h2';

export interface Params {
  seconds: number;
  warmupSeconds: number;
  prewarmSeconds: number;
  rates: number[];
  pool: number;
  concurrency: number;
  repeats: number;
  /** A measurement whose steal time is above this (percent) is made again, once. */
  stealRetryPercent: number;
  readyStarts: number;
  benchmarks: ('latency' | 'throughput' | 'readiness')[];
  targets: Set<TargetId>;
  protocols: Protocol[];
  bodies: Body[];
  /** Markdown file the section is appended to, or '-' for print only. */
  output: string;
  /** SVG chart path, or null for none. */
  chart: string | null;
}

function num(name: string, fallback: number, min = Number.MIN_VALUE): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function list<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...fallback];
  const values = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const v of values) if (!allowed.includes(v as T)) throw new Error(`${name}: unknown value ${v}; known: ${allowed.join(', ')}`);
  return values as T[];
}

export function readParams(): Params {
  const rates = (process.env.BENCH_RATES || '500,1000,2000,4000').split(',').map((s) => Number(s.trim()));
  for (const r of rates) if (!Number.isFinite(r) || r <= 0) throw new Error(`BENCH_RATES must be positive numbers, got ${process.env.BENCH_RATES}`);
  const output = process.env.BENCH_OUTPUT || join(repoRoot, 'docs/benchmarks.md');
  const chartDefault = output === '-' ? '' : join(repoRoot, 'docs/bench/latency-vs-rate.svg');
  const chart = process.env.BENCH_CHART ?? chartDefault;
  return {
    seconds: num('BENCH_SECONDS', 4),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', 1, 0),
    prewarmSeconds: num('BENCH_PREWARM_SECONDS', 2, 0),
    rates,
    pool: Math.round(num('BENCH_POOL', 50, 1)),
    concurrency: Math.round(num('BENCH_CONCURRENCY', 50, 1)),
    repeats: Math.round(num('BENCH_REPEATS', 3, 1)),
    stealRetryPercent: num('BENCH_STEAL_RETRY', 5, 0),
    readyStarts: Math.round(num('BENCH_READY_STARTS', 5, 0)),
    benchmarks: list('BENCH_ONLY', ['latency', 'throughput', 'readiness'] as const, ['latency', 'throughput', 'readiness']),
    targets: new Set(list('BENCH_TARGETS', targetIds, defaultTargets)),
    protocols: list('BENCH_PROTOCOLS', ['h1', 'h2'] as const, ['h1', 'h2']),
    bodies: list('BENCH_BODIES', ['small', '64k'] as const, ['small', '64k']),
    output,
    chart: chart === '' || chart === '-' ? null : chart,
  };
}
