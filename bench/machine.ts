// The facts a result needs next to it: date, commit, CPU, cores, Node, HAProxy, nginx, kernel, and how
// noisy the machine is (a spinning thread's pauses per CPU).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../test/harness/mesh.ts';
import { startProcess } from '../test/harness/process.ts';
import { haproxyVersion } from './haproxy.ts';
import { nginxVersion } from './nginx.ts';
import { busyPercent, cpuCounters } from './proc-stats.ts';

const probeScript = fileURLToPath(new URL('./jitter-probe.ts', import.meta.url));

export interface Machine {
  date: string;
  commit: string;
  cpuModel: string;
  cores: number;
  node: string;
  haproxy: string | null;
  nginx: string | null;
  kernel: string;
}

export interface CpuNoise { cpu: string; pausesPerSecond: number; longestPauseMs: number }

export function describeMachine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit: git.status === 0 ? git.stdout.trim() : 'unknown',
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim() ?? 'unknown',
    // Not availableParallelism(): that is this process's CPU affinity, and the benchmark pins itself.
    cores: cpus().length,
    node: process.version,
    haproxy: haproxyVersion(),
    nginx: nginxVersion(),
    kernel: release(),
  };
}

/** Spins a thread on each CPU in turn ('' = unpinned) for `ms` and counts the pauses over 0.5 ms it sees. */
export async function measureCpuNoise(cpus: string[], ms: number): Promise<CpuNoise[]> {
  const out: CpuNoise[] = [];
  for (const cpu of cpus) {
    const p = await startProcess<{ pausesOver500us: number; longestPauseMs: number; seconds: number }>(
      `jitter probe (CPU ${cpu || 'any'})`, [probeScript], { env: { BENCH_CPUS: cpu, BENCH_PROBE_MS: String(ms) } });
    await p.exited;
    out.push({ cpu: cpu || 'any', pausesPerSecond: p.ready.pausesOver500us / p.ready.seconds, longestPauseMs: p.ready.longestPauseMs });
  }
  return out;
}

/** How busy the machine is before the benchmark starts anything: other work skews every figure. */
export async function busyBeforeStart(ms: number): Promise<number> {
  const before = cpuCounters();
  await new Promise((r) => setTimeout(r, ms));
  return busyPercent(before, cpuCounters());
}
