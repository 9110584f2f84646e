// The performance goals, each judged from this run's figures: the measured values, the ratio the goal
// is about, and MET / NOT MET (or "not measured" when a path it needs did not run).
import { cellKey } from './matrix.ts';
import type { Readiness } from './readiness.ts';
import type { Samples } from './rounds.ts';
import { added, summarize, type CellSummary } from './summary.ts';
import { fixed, int, kilo, ms, pct, signed } from './format.ts';
import type { TargetId } from './target.ts';

export interface Goal { goal: string; measured: string; ratio: string; verdict: string }

const goalRate = 1000;
const closed = (s: Samples, target: TargetId): CellSummary | null =>
  summarize(s.get(cellKey({ kind: 'closed', target, protocol: 'h1', body: 'small', rate: 0 })) ?? []);
const openSamples = (s: Samples, target: TargetId) => s.get(cellKey({ kind: 'open', target, protocol: 'h1', body: 'small', rate: goalRate })) ?? [];
const verdict = (met: boolean): string => (met ? '**MET**' : '**NOT MET**');
const missing = (goal: string, what: string): Goal => ({ goal, measured: `not measured (${what})`, ratio: '-', verdict: '-' });

function perCore(s: Samples): Goal {
  const goal = 'Weft single req/s per core ≥ 50% of HAProxy\'s (HTTP/1.1, 50 connections, 100 B)';
  const weft = closed(s, 'weft');
  const haproxy = closed(s, 'haproxy');
  if (!weft || !haproxy) return missing(goal, 'needs the closed loop of weft and haproxy at h1 small');
  const ratio = weft.perCore / haproxy.perCore;
  return {
    goal,
    measured: `Weft ${int(weft.rps.median)} req/s at ${pct(100 * weft.busy)} CPU = ${kilo(weft.perCore)}/core; `
      + `HAProxy ${int(haproxy.rps.median)} req/s at ${pct(100 * haproxy.busy)} CPU = ${kilo(haproxy.perCore)}/core`,
    ratio: pct(100 * ratio),
    verdict: verdict(ratio >= 0.5),
  };
}

function addedLatency(s: Samples, k: 'p50' | 'p90'): Goal {
  const goal = `Weft pair mTLS added ${k} ≤ 1.5× HAProxy pair mTLS's, at ${goalRate} rps`;
  const weft = openSamples(s, 'weft-pair-mtls');
  const haproxy = openSamples(s, 'haproxy-pair-mtls');
  const direct = openSamples(s, 'direct');
  if (!weft.length || !haproxy.length || !direct.length) return missing(goal, `needs direct and both mTLS pairs at ${goalRate} rps`);
  const w = added(weft, direct, k);
  const h = added(haproxy, direct, k);
  const tail = (['p99', 'p999'] as const).map((t) => `${t === 'p999' ? 'p99.9' : t} ${signed(added(weft, direct, t))} vs ${signed(added(haproxy, direct, t))}`).join(', ');
  const ratio = w / h;
  const meaningful = h > 0;
  return {
    goal,
    measured: `Weft ${signed(w)} ms, HAProxy ${signed(h)} ms (beside: ${tail} ms)`,
    ratio: meaningful ? `${fixed(ratio, 2)}×` : 'n/a (HAProxy added ≤ 0)',
    verdict: meaningful ? verdict(ratio <= 1.5) : verdict(w <= 0),
  };
}

function sidecarCpu(s: Samples): Goal {
  const goal = `≤ 0.15 vCPU per 1000 rps per sidecar (Weft pair mTLS at ${goalRate} rps)`;
  const sum = summarize(openSamples(s, 'weft-pair-mtls'));
  if (!sum) return missing(goal, `needs weft-pair-mtls at ${goalRate} rps`);
  const worst = Math.max(...sum.vcpuPer1k);
  return {
    goal,
    measured: `client sidecar ${fixed(sum.vcpuPer1k[0], 3)}, server sidecar ${fixed(sum.vcpuPer1k[1], 3)} vCPU per 1000 rps`,
    ratio: `${fixed(worst / 0.15, 2)}× the budget`,
    verdict: verdict(worst <= 0.15),
  };
}

function sidecarRss(s: Samples): Goal {
  const goal = `≤ 50 MB RSS per sidecar under that load (peak VmRSS)`;
  const sum = summarize(openSamples(s, 'weft-pair-mtls'));
  if (!sum) return missing(goal, `needs weft-pair-mtls at ${goalRate} rps`);
  const worst = Math.max(...sum.rssMbMax);
  return {
    goal,
    measured: `client sidecar ${fixed(sum.rssMbMax[0], 1)} MB, server sidecar ${fixed(sum.rssMbMax[1], 1)} MB (highest peak of ${sum.rounds} rounds)`,
    ratio: `${fixed(worst / 50, 2)}× the budget`,
    verdict: verdict(worst <= 50),
  };
}

function ready(r: Readiness | null): Goal {
  const goal = 'ready ≤ 1 s after process start (ready line and first request served)';
  if (!r || r.each.length === 0) return missing(goal, 'needs a Weft mesh and BENCH_READY_STARTS > 0');
  const worst = Math.max(r.readyLineMs, r.firstRequestMs);
  return {
    goal,
    measured: `ready line ${ms(r.readyLineMs)} ms, first request served ${ms(r.firstRequestMs)} ms (median of ${r.each.length} starts)`,
    ratio: `${fixed(worst / 1000, 2)}× the budget`,
    verdict: verdict(worst <= 1000),
  };
}

function concurrency(s: Samples, placement: string, unavailable: string | null): Goal {
  const goal = 'Weft single `--concurrency` N=1 vs N=2 (HTTP/1.1, 50 connections, 100 B)';
  const one = closed(s, 'weft');
  const two = closed(s, 'weft-c2');
  if (!one || !two) return missing(goal, unavailable ?? 'needs the closed loop of weft and weft-c2 at h1 small');
  return {
    goal,
    measured: `N=1 ${int(one.rps.median)} req/s at ${pct(100 * one.busy)} CPU (one CPU); N=2 ${int(two.rps.median)} req/s at ${pct(100 * two.busy)} CPU (${placement})`,
    ratio: `${fixed(two.rps.median / one.rps.median, 2)}× N=1`,
    verdict: 'no target',
  };
}

export function goals(samples: Samples, readiness: Readiness | null, concurrencyPlacement: string, concurrencyUnavailable: string | null): Goal[] {
  return [perCore(samples), addedLatency(samples, 'p50'), addedLatency(samples, 'p90'), sidecarCpu(samples), sidecarRss(samples),
    ready(readiness), concurrency(samples, concurrencyPlacement, concurrencyUnavailable)];
}
