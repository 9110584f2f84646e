// Conditions the benchmark waits for before it measures.
import { waitFor } from '../test/harness/process.ts';

/** One GET through 127.0.0.1:port with the given Host header; true on a 2xx. */
export async function answers(port: number, host: string): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { host }, signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`127.0.0.1:${port} (Host ${host}) answered ${res.status}`);
  return true;
}

/** Waits until a proxy's admin port says /ready. */
export async function waitReady(name: string, adminPort: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(`${name} /ready`, async () => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/ready`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`/ready ${res.status}: ${text.trim()}`);
    return true;
  }, timeoutMs);
}

/** Waits until one request through 127.0.0.1:port succeeds. */
export async function waitAnswers(what: string, port: number, host: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(what, () => answers(port, host), timeoutMs, 100);
}
