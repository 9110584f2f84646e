// Conditions the benchmark waits for before it measures.
import { request } from 'node:http';
import { waitFor } from '../test/harness/process.ts';

/**
 * One GET through 127.0.0.1:port with the given Host header; true on a 2xx. (node:http, not fetch:
 * fetch treats Host as a forbidden header and silently sends its own.)
 */
export function answers(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host }, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) resolve(true);
        else reject(new Error(`127.0.0.1:${port} (Host ${host}) answered ${res.statusCode}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`127.0.0.1:${port} (Host ${host}): no answer in 2 s`)));
    req.on('error', reject);
    req.end();
  });
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
