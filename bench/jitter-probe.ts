// How often the machine takes a CPU away from a busy thread: spins for BENCH_PROBE_MS on the CPUs
// of BENCH_CPUS and reports the pauses it saw. A child of bench/run.ts; the result is its ready line:
// {"ready":true,"pausesOver500us":N,"longestPauseMs":X,"seconds":S}
import { pinProcess } from './cpu-pinning.ts';

pinProcess(process.pid, process.env.BENCH_CPUS || null);
const durationMs = Number(process.env.BENCH_PROBE_MS || 1000);
const end = performance.now() + durationMs;
let last = performance.now();
let pauses = 0;
let longest = 0;
for (;;) {
  const now = performance.now();
  if (now > end) break;
  const gap = now - last;
  if (gap > 0.5) pauses++;
  if (gap > longest) longest = gap;
  last = now;
}
process.stdout.write(`${JSON.stringify({ ready: true, pausesOver500us: pauses, longestPauseMs: longest, seconds: durationMs / 1000 })}\n`);
