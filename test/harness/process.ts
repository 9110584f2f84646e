// Child processes for multi-process tests, the demo and the benchmarks: each prints one JSON line
// with "ready": true and the ports it bound; we read that line instead of sleeping. Every process
// started here is tracked and can be killed by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ManagedProcess<R = Record<string, unknown>> {
  name: string;
  child: ChildProcess;
  pid: number;
  ready: R;
  /** Everything the process wrote to stderr (its JSON logs), most recent last, bounded. */
  logs: string[];
  exited: Promise<number | null>;
}

const live = new Set<ManagedProcess<any>>();

export async function startProcess<R = Record<string, unknown>>(name: string, args: string[], options: {
  env?: Record<string, string>;
  timeoutMs?: number;
  echo?: boolean;
  /** Return at once, without waiting for the ready line (`ready` is then an empty object). */
  noWait?: boolean;
} = {}): Promise<ManagedProcess<R>> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    logs.push(line);
    if (logs.length > 500) logs.shift();
    if (options.echo) process.stderr.write(`[${name}] ${line}\n`);
  });
  const proc: ManagedProcess<R> = { name, child, pid: child.pid!, ready: undefined as unknown as R, logs, exited };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (options.noWait) {
    proc.ready = {} as R;
    return proc;
  }
  try {
    proc.ready = await waitReady<R>(proc, child, logs, exited, name, timeoutMs);
  } catch (err) {
    await stopProcess(proc, 'SIGKILL'); // never leak a process that failed to start
    throw err;
  }
  return proc;
}

function waitReady<R>(_proc: ManagedProcess<R>, child: ChildProcess, logs: string[], exited: Promise<number | null>, name: string, timeoutMs: number): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not become ready in ${timeoutMs} ms; last logs:\n${logs.slice(-10).join('\n')}`)), timeoutMs);
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      try {
        const msg = JSON.parse(line);
        if (msg && msg.ready === true) { clearTimeout(timer); resolve(msg as R); }
      } catch { /* not our line */ }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`${name} exited with ${code} before it was ready; logs:\n${logs.slice(-20).join('\n')}`)); });
  });
}

/** Sends a signal and waits for the process to exit (SIGKILL after a deadline). */
export async function stopProcess(proc: ManagedProcess<any>, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Processes started here that have not exited. */
export function liveProcesses(): ManagedProcess<any>[] {
  return [...live];
}

export async function stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await Promise.all([...live].map((p) => stopProcess(p, signal)));
}

/** Polls a condition until it holds or the deadline passes; the error says what was last seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Fails when a process started here is still running: a test must stop what it started. */
export function assertNoLeakedProcesses(): void {
  const leaked = liveProcesses();
  if (leaked.length > 0) throw new Error(`processes still running after the test: ${leaked.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
}
