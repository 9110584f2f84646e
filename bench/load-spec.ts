// What the orchestrator asks of the load generator, and what it answers (JSON over argv / stdout).
import type { Percentiles } from './latency-recorder.ts';

export interface LoadSpec {
  /** open: requests scheduled at t0 + i/rate; closed: each connection sends when its last reply ends. */
  mode: 'open' | 'closed';
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Host header, e.g. upstream:9080 */
  host: string;
  path: string;
  /** 'h1': HTTP/1.1 keep-alive; 'h2': h2c with prior knowledge (one stream in flight per connection). */
  protocol: 'h1' | 'h2';
  /** Keep-alive connections (open loop: the pool requests wait for; closed loop: the concurrency). */
  connections: number;
  /** Open loop only: requests per second. */
  rate: number;
  warmupSeconds: number;
  seconds: number;
  /** Open loop: the scheduler spins (setImmediate) when the next send is closer than this; 0 = timers only. */
  spinMs: number;
  /** Per-request deadline, and how long the end of a run waits for replies still in flight. */
  timeoutMs: number;
  /** taskset CPU list the generator pins itself to, or null. */
  cpus: string | null;
  /**
   * Run the generator under SCHED_IDLE (chrt -i), so that the upstream sharing its CPU preempts it
   * the moment it wakes; for the open loop, whose scheduler spins between sends.
   */
  idlePriority: boolean;
}

export interface LoadResult {
  phase: 'done';
  /** Successful (2xx) replies in the measured window. */
  ok: number;
  /** Errors and non-2xx replies in the measured window. */
  errors: number;
  /** Measured requests with no reply when the run gave up waiting (open loop). */
  unfinished: number;
  /** Length of the measured window. */
  seconds: number;
  /** Open loop: from the intended send time; closed loop: from the actual send. */
  latencyMs: Percentiles;
  /** Open loop: how late the scheduler noticed that a request was due (the generator's own error). */
  scheduleLagMs: Percentiles | null;
}
