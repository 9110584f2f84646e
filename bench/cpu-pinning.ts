// Where each process of a benchmark runs. With taskset and at least two CPUs, every proxy under test
// gets CPU 1 to itself and the load generator, the upstream and the control plane share CPU 0, so
// the proxies compete with nothing but each other. BENCH_PIN=0 turns pinning off.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Placement {
  pinned: boolean;
  /** CPU list (taskset syntax) for the proxies under test, or null when unpinned. */
  proxyCpus: string | null;
  /** CPU list for the load generator, the upstream and the control plane, or null when unpinned. */
  loadCpus: string | null;
  /** One sentence for the results. */
  note: string;
}

export function choosePlacement(): Placement {
  const cpus = availableParallelism();
  if (process.env.BENCH_PIN === '0') {
    return { pinned: false, proxyCpus: null, loadCpus: null, note: 'unpinned (BENCH_PIN=0)' };
  }
  if (cpus < 2) return { pinned: false, proxyCpus: null, loadCpus: null, note: `unpinned (only ${cpus} CPU)` };
  if (spawnSync('taskset', ['-V']).status !== 0) {
    return { pinned: false, proxyCpus: null, loadCpus: null, note: 'unpinned (taskset not found)' };
  }
  return {
    pinned: true,
    proxyCpus: '1',
    loadCpus: '0',
    note: 'pinned with taskset: proxies under test on CPU 1; load generator, upstream and control plane on CPU 0',
  };
}

/** Pins every thread of a running process (and the threads it starts later) to `cpus`. */
export function pinProcess(pid: number, cpus: string | null): void {
  if (cpus === null) return;
  const r = spawnSync('taskset', ['-a', '-c', '-p', cpus, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -a -c -p ${cpus} ${pid} failed: ${r.stderr || r.error?.message}`);
}

/** Puts every thread of a process under SCHED_IDLE: any normal process on its CPU preempts it at once. */
export function idlePriority(pid: number): void {
  const r = spawnSync('chrt', ['-a', '-i', '-p', '0', String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chrt -a -i -p 0 ${pid} failed: ${r.stderr || r.error?.message}`);
}
