// Runs the load generator (its own process, started by the e2e harness) against one target and
// samples the target's proxies over exactly the generator's measured window.
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startProcess, stopProcess, type ManagedProcess } from '../test/harness/process.ts';
import type { LoadResult, LoadSpec } from './load-spec.ts';
import { ProcessSampler, type WindowUsage } from './proc-stats.ts';

const generatorScript = fileURLToPath(new URL('./load-generator.ts', import.meta.url));

export interface Measurement { load: LoadResult; usage: WindowUsage }

/** The generator's {"phase": …} lines after its ready line, in order. */
class PhaseReader {
  private readonly seen = new Map<string, unknown>();
  private readonly waiting = new Map<string, (msg: unknown) => void>();
  private readonly proc: ManagedProcess<unknown>;

  constructor(proc: ManagedProcess<unknown>) {
    this.proc = proc;
    createInterface({ input: proc.child.stdout! }).on('line', (line) => {
      let msg: any;
      try { msg = JSON.parse(line); } catch { return; }
      if (typeof msg?.phase !== 'string') return;
      this.seen.set(msg.phase, msg);
      this.waiting.get(msg.phase)?.(msg);
    });
  }

  next<T>(phase: string, timeoutMs: number): Promise<T> {
    if (this.seen.has(phase)) return Promise.resolve(this.seen.get(phase) as T);
    const logs = (): string => this.proc.logs.slice(-20).join('\n');
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator: no "${phase}" within ${timeoutMs} ms; logs:\n${logs()}`)), timeoutMs);
      this.waiting.set(phase, (msg) => { clearTimeout(timer); resolve(msg as T); });
      void this.proc.exited.then((code) => {
        clearTimeout(timer);
        // The line may have been read just before the exit was noticed.
        if (this.seen.has(phase)) resolve(this.seen.get(phase) as T);
        else reject(new Error(`load generator exited with ${code} before "${phase}"; logs:\n${logs()}`));
      });
    });
  }
}

export async function measure(spec: LoadSpec, proxyPids: number[]): Promise<Measurement> {
  const generator = await startProcess<{ pid: number }>('load-generator', [generatorScript, JSON.stringify(spec)]);
  try {
    const phases = new PhaseReader(generator);
    // The generator opens its connections and warms up for spec.warmupSeconds before it says so.
    await phases.next('measuring', spec.warmupSeconds * 1000 + spec.timeoutMs + 10_000);
    const sampler = new ProcessSampler(proxyPids);
    let load: LoadResult;
    try {
      load = await phases.next<LoadResult>('done', spec.seconds * 1000 + 2 * spec.timeoutMs + 10_000);
    } catch (err) {
      sampler.stop();
      throw err;
    }
    return { load, usage: sampler.stop() };
  } finally {
    await stopProcess(generator);
  }
}
