// CPU time and memory of the processes under test, and the machine's steal time, read from /proc.
// A sampler reads each process's utime+stime (/proc/PID/stat) at the start and end of the measured
// window and polls VmRSS (/proc/PID/status) in between for the peak.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const clockTicks = ((): number => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** User + system CPU time of a process (all its threads) in milliseconds. */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after it start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** Resident set size in kB. */
export function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export interface CpuCounters { steal: number; idle: number; total: number }

/** The machine-wide counters of /proc/stat (in clock ticks, summed over CPUs). */
export function cpuCounters(): CpuCounters {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { steal: v[7] ?? 0, idle: v[3] + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) };
}

/** Share of CPU time stolen by the hypervisor between two readings, in percent. */
export function stealPercent(before: CpuCounters, after: CpuCounters): number {
  const total = after.total - before.total;
  return total > 0 ? (100 * (after.steal - before.steal)) / total : 0;
}

/** Share of CPU time the machine spent busy (not idle) between two readings, in percent. */
export function busyPercent(before: CpuCounters, after: CpuCounters): number {
  const total = after.total - before.total;
  return total > 0 ? 100 - (100 * (after.idle - before.idle)) / total : 0;
}

export interface ProcessUsage { pid: number; cpuMs: number; peakRssKb: number }
export interface WindowUsage { processes: ProcessUsage[]; wallMs: number; stealPercent: number }

export class ProcessSampler {
  private readonly pids: number[];
  private readonly startCpu: number[];
  private readonly peakRss: number[];
  private readonly startCounters: CpuCounters;
  private readonly startWall: number;
  private readonly timer: NodeJS.Timeout;

  constructor(pids: number[], intervalMs = 100) {
    this.pids = pids;
    this.startCounters = cpuCounters();
    this.startWall = performance.now();
    this.startCpu = pids.map(cpuTimeMs);
    this.peakRss = pids.map(rssKb);
    this.timer = setInterval(() => this.sampleRss(), intervalMs);
  }

  private sampleRss(): void {
    this.pids.forEach((pid, i) => {
      try { this.peakRss[i] = Math.max(this.peakRss[i], rssKb(pid)); } catch { /* exited; stop() reports it */ }
    });
  }

  stop(): WindowUsage {
    clearInterval(this.timer);
    this.sampleRss();
    const processes = this.pids.map((pid, i) => ({ pid, cpuMs: cpuTimeMs(pid) - this.startCpu[i], peakRssKb: this.peakRss[i] }));
    return { processes, wallMs: performance.now() - this.startWall, stealPercent: stealPercent(this.startCounters, cpuCounters()) };
  }
}
