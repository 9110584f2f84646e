// Starts the benchmark's upstream (bench/upstream.ts) in its own process, on the load's CPU.
import { fileURLToPath } from 'node:url';
import { startProcess, type ManagedProcess } from '../test/harness/process.ts';
import type { Placement } from './cpu-pinning.ts';

const upstreamScript = fileURLToPath(new URL('./upstream.ts', import.meta.url));

export function startUpstream(placement: Placement): Promise<ManagedProcess<{ port: number }>> {
  return startProcess<{ port: number }>('upstream', [upstreamScript], { env: { BENCH_CPUS: placement.loadCpus ?? '' } });
}
