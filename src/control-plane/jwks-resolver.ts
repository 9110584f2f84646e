// Fetches the JSON Web Key Sets that RequestAuthentication jwtRules name by jwksUri, as istiod does,
// so proxies get them inline (local_jwks) and never call out themselves. Each URI is fetched when it
// first appears, then refreshed (default every 20 minutes, as Istio); a failed fetch keeps the last
// good set, or none (the generator then inlines a set that matches no token: requests carrying a token
// get 401, as in Istio) and is retried sooner. Every failure is logged with its reason.
import type { Logger } from '../common/log.ts';

export interface JwksResolverOptions {
  logger: Logger;
  refreshMs?: number;
  retryMs?: number;
  timeoutMs?: number;
  /** Called when a set changed (first fetch, refresh with other content, or lost). */
  changed: () => void;
}

interface Entry { jwks: string | undefined; timer: NodeJS.Timeout | undefined; error?: string; fetchedAt?: Date }

export class JwksResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly options: Required<Omit<JwksResolverOptions, 'logger' | 'changed'>>;
  private readonly log: Logger;
  private readonly changed: () => void;
  private closed = false;

  constructor(options: JwksResolverOptions) {
    this.log = options.logger;
    this.changed = options.changed;
    this.options = { refreshMs: options.refreshMs ?? 20 * 60_000, retryMs: options.retryMs ?? 60_000, timeoutMs: options.timeoutMs ?? 5_000 };
  }

  /** The URIs in use now: new ones are fetched, unused ones forgotten. */
  track(uris: Iterable<string>): void {
    const wanted = new Set(uris);
    for (const [uri, e] of this.entries) {
      if (!wanted.has(uri)) {
        if (e.timer) clearTimeout(e.timer);
        this.entries.delete(uri);
      }
    }
    for (const uri of wanted) {
      if (this.entries.has(uri)) continue;
      this.entries.set(uri, { jwks: undefined, timer: undefined });
      void this.fetch(uri);
    }
  }

  /** URI → JWKS JSON text, for the URIs fetched successfully. */
  snapshot(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [uri, e] of this.entries) if (e.jwks !== undefined) out.set(uri, e.jwks);
    return out;
  }

  status(): { uri: string; fetched: boolean; fetchedAt?: string; error?: string }[] {
    return [...this.entries].map(([uri, e]) => ({
      uri, fetched: e.jwks !== undefined, ...(e.fetchedAt ? { fetchedAt: e.fetchedAt.toISOString() } : {}), ...(e.error ? { error: e.error } : {}),
    }));
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    this.entries.clear();
  }

  private async fetch(uri: string): Promise<void> {
    let text: string | undefined;
    let error: string | undefined;
    try {
      const res = await fetch(uri, { signal: AbortSignal.timeout(this.options.timeoutMs), headers: { accept: 'application/json' } });
      const body = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const parsed = JSON.parse(body) as { keys?: unknown };
      if (!Array.isArray(parsed.keys)) throw new Error('the response is not a JSON Web Key Set (no "keys" array)');
      text = JSON.stringify(parsed);
    } catch (err) {
      error = (err as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (err as Error).message;
    }
    const entry = this.entries.get(uri);
    if (this.closed || entry === undefined) return;
    if (error !== undefined) {
      if (entry.error !== error) this.log.warn('cannot fetch JWKS; tokens of this issuer are rejected until it can', { jwksUri: uri, error, keepsLastGood: entry.jwks !== undefined });
      entry.error = error;
    } else {
      entry.error = undefined;
      entry.fetchedAt = new Date();
      if (entry.jwks !== text) {
        entry.jwks = text;
        this.log.info('fetched JWKS', { jwksUri: uri });
        this.changed();
      }
    }
    entry.timer = setTimeout(() => void this.fetch(uri), error === undefined ? this.options.refreshMs : this.options.retryMs);
    entry.timer.unref();
  }
}
