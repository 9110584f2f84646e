// Runs a fixture script as a child process and reads its stdout line by line.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Fixture {
  child: ChildProcess;
  pid: number;
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves with the first line matching `match` (or the end of output). */
  waitForLine(match: (line: string) => boolean): Promise<string | undefined>;
  exited: Promise<void>;
}

export function startFixture(script: string, args: string[]): Fixture {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string | undefined) => void }[] = [];
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    lines.push(line);
    for (const w of waiters.filter((w) => w.match(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  const exited = once(child, 'close').then(() => {});
  rl.on('close', () => { for (const w of waiters.splice(0)) w.resolve(undefined); });
  return {
    child, pid: child.pid!, lines, exited,
    waitForLine: (match) => {
      const seen = lines.find(match);
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

/** Kills the fixture (only its own PID) and waits until it is reaped and its output is read. */
export async function stopFixture(fixture: Fixture, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (fixture.child.exitCode === null && fixture.child.signalCode === null) process.kill(fixture.pid, signal);
  await fixture.exited;
}
