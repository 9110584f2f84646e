// Runs the matrix BENCH_REPEATS times. Each measurement records the machine's steal time over its
// window; one with heavy steal, or whose open-loop generator fell behind its schedule (another process
// took its CPU), is made again, once, and the second one is kept.
import { pathFor } from './bodies.ts';
import { cellKey, roundCells, speaks, type Cell } from './matrix.ts';
import { measure, type Measurement } from './measure.ts';
import type { Params } from './params.ts';
import type { Target, TargetId } from './target.ts';

export interface Sample {
  round: number;
  measurement: Measurement | null;
  error: string | null;
  /** Made again because the first attempt saw more steal than BENCH_STEAL_RETRY or a generator behind. */
  retried: boolean;
}

export type Samples = Map<string, Sample[]>;

export interface RoundContext {
  params: Params;
  targets: Map<TargetId, Target>;
  loadCpus: string | null;
  idlePriority: boolean;
  aborted: () => boolean;
  log: (line: string) => void;
}

async function measureCell(ctx: RoundContext, cell: Cell, target: Target): Promise<Measurement> {
  const { params } = ctx;
  const open = cell.kind === 'open';
  const port = cell.protocol === 'h2' ? target.h2Port! : target.h1Port;
  return measure({
    mode: cell.kind, origin: `http://127.0.0.1:${port}`, host: target.host, path: pathFor(cell.body), protocol: cell.protocol,
    connections: open ? params.pool : params.concurrency, rate: cell.rate,
    warmupSeconds: params.warmupSeconds, seconds: params.seconds, spinMs: open ? 2 : 0, timeoutMs: 5000,
    cpus: ctx.loadCpus, idlePriority: open && ctx.idlePriority,
  }, target.proxyPids);
}

/** Lag p90 of the open-loop generator above which it did not keep its schedule. */
export const generatorBehindMs = 1;

/** Why a measurement should be made again: heavy steal, or (open loop) a generator that fell behind. */
function disturbed(m: Measurement, stealRetryPercent: number): string | null {
  if (m.usage.stealPercent > stealRetryPercent) return `steal ${m.usage.stealPercent.toFixed(1)}% > ${stealRetryPercent}%`;
  const lag = m.load.scheduleLagMs?.p90 ?? 0;
  if (lag > generatorBehindMs) return `generator behind (lag p90 ${lag.toFixed(2)} ms)`;
  return null;
}

function describe(cell: Cell, target: Target): string {
  return cell.kind === 'open' ? `open loop ${cell.rate} rps: ${target.name}` : `closed loop ${cell.protocol} ${cell.body}: ${target.name}`;
}

export async function runRounds(ctx: RoundContext): Promise<Samples> {
  const samples: Samples = new Map();
  for (let round = 0; round < ctx.params.repeats; round++) {
    const cells = roundCells(ctx.params, round);
    for (const [i, cell] of cells.entries()) {
      if (ctx.aborted()) throw new Error('interrupted');
      const target = ctx.targets.get(cell.target);
      if (!target || !speaks(target, cell.protocol)) continue;
      ctx.log(`round ${round + 1}/${ctx.params.repeats}, ${i + 1}/${cells.length}: ${describe(cell, target)}`);
      let sample: Sample;
      try {
        let measurement = await measureCell(ctx, cell, target);
        let retried = false;
        const why = disturbed(measurement, ctx.params.stealRetryPercent);
        if (why) {
          ctx.log(`${why}: measuring again`);
          measurement = await measureCell(ctx, cell, target);
          retried = true;
        }
        sample = { round, measurement, error: null, retried };
      } catch (err) {
        ctx.log(`${target.name}: ${(err as Error).message}`);
        sample = { round, measurement: null, error: (err as Error).message.split('\n')[0], retried: false };
      }
      const key = cellKey(cell);
      samples.set(key, [...(samples.get(key) ?? []), sample]);
    }
  }
  return samples;
}

/**
 * Closed-loop traffic through every path before anything is measured, so that the Node.js processes
 * on it (upstream, sidecars) have compiled their hot code and grown their heaps: without it, whichever
 * path is measured first carries the upstream's warm-up in its tail.
 */
export async function prewarm(ctx: RoundContext, targets: Target[]): Promise<void> {
  if (ctx.params.prewarmSeconds <= 0) return;
  for (const target of targets) {
    for (const protocol of ['h1', 'h2'] as const) {
      if (ctx.aborted()) throw new Error('interrupted');
      if (!speaks(target, protocol) || !ctx.params.protocols.includes(protocol)) continue;
      ctx.log(`warming up: ${target.name} (${protocol})`);
      await measure({
        mode: 'closed', origin: `http://127.0.0.1:${protocol === 'h2' ? target.h2Port : target.h1Port}`, host: target.host, path: '/',
        protocol, connections: ctx.params.concurrency, rate: 0, warmupSeconds: 0.5, seconds: ctx.params.prewarmSeconds / (protocol === 'h2' ? 2 : 1),
        spinMs: 0, timeoutMs: 5000, cpus: ctx.loadCpus, idlePriority: false,
      }, []).catch((err: Error) => ctx.log(`warming up ${target.name}: ${err.message}`));
    }
  }
}
