// A real Prometheus server (Debian's /usr/bin/prometheus) scraping a Weft mesh on 127.0.0.1: a static
// scrape config lists each proxy's admin port (/stats/prometheus) and the control plane's admin port
// (/metrics), scraped every second, with a temporary TSDB. Prometheus is not a Weft process, so it is
// started and stopped here by PID; `stop()` must be called in after().
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '../../harness/process.ts';

export const prometheusBin = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const prometheusMissing = existsSync(prometheusBin) ? false : `Prometheus not found at ${prometheusBin}`;

export interface ScrapeTarget {
  /** The scrape job (one per kind of target: proxies, control plane). */
  job: string;
  /** host:port */
  address: string;
  metricsPath: string;
  /** Target labels added to every series scraped from it (as Kubernetes discovery adds pod and app). */
  labels?: Record<string, string>;
}

/** One sample of an instant vector. */
export interface Sample { metric: Record<string, string>; value: [number, string] }

export interface QueryResult { resultType: 'vector' | 'scalar' | 'matrix' | 'string'; result: any }

export class Prometheus {
  readonly port: number;
  readonly child: ChildProcess;
  readonly logs: string[];
  private readonly dir: string;
  private readonly exited: Promise<number | null>;

  private constructor(port: number, child: ChildProcess, logs: string[], dir: string, exited: Promise<number | null>) {
    this.port = port;
    this.child = child;
    this.logs = logs;
    this.dir = dir;
    this.exited = exited;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts Prometheus on a free port of 127.0.0.1 and waits for /-/ready. */
  static async start(targets: ScrapeTarget[]): Promise<Prometheus> {
    const dir = await mkdtemp(join(tmpdir(), 'weft-prometheus-'));
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, scrapeConfig(targets));
    // The port is picked by binding port 0 and releasing it; another process could take it in
    // between, so a start that fails to bind is retried on a new port.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const logs: string[] = [];
      const child = spawn(prometheusBin, [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, `data-${attempt}`)}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
      child.once('error', (err) => logs.push(`spawn: ${err.message}`));
      createInterface({ input: child.stderr! }).on('line', (line) => {
        logs.push(line);
        if (logs.length > 200) logs.shift();
      });
      const p = new Prometheus(port, child, logs, dir, exited);
      let gone = false;
      void exited.then(() => { gone = true; });
      try {
        await waitFor('Prometheus /-/ready', async () => {
          if (gone) throw new Error(`prometheus exited: ${logs.slice(-5).join('\n')}`);
          return (await fetch(`${p.url}/-/ready`)).status === 200;
        }, 20_000, 100);
        return p;
      } catch (err) {
        lastError = err;
        await p.kill();
        if (!logs.some((l) => l.includes('address already in use'))) break;
      }
    }
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Prometheus did not start: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  }

  /** An instant query; throws with Prometheus's error (e.g. a parse error) when it fails. */
  async query(promql: string): Promise<QueryResult> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = await res.json() as { status: string; data?: QueryResult; error?: string; errorType?: string };
    if (body.status !== 'success' || !body.data) throw new Error(`query failed (${body.errorType}: ${body.error}): ${promql}`);
    return body.data;
  }

  /** An instant query's samples (an empty list when nothing matches). */
  async vector(promql: string): Promise<Sample[]> {
    const data = await this.query(promql);
    if (data.resultType === 'scalar') return [{ metric: {}, value: data.result }];
    if (data.resultType !== 'vector') throw new Error(`expected a vector from ${promql}, got ${data.resultType}`);
    return data.result as Sample[];
  }

  /** The value of a query that yields one sample, or undefined when it yields none. */
  async value(promql: string): Promise<number | undefined> {
    const v = await this.vector(promql);
    if (v.length === 0) return undefined;
    if (v.length > 1) throw new Error(`expected one sample from ${promql}, got ${v.length}: ${JSON.stringify(v.map((s) => s.metric))}`);
    return Number(v[0].value[1]);
  }

  /** The label sets of the series matching a selector, as stored (empty label values are absent). */
  async series(match: string): Promise<Record<string, string>[]> {
    const res = await fetch(`${this.url}/api/v1/series?match[]=${encodeURIComponent(match)}`);
    const body = await res.json() as { status: string; data?: Record<string, string>[]; error?: string };
    if (body.status !== 'success' || !body.data) throw new Error(`series ${match} failed: ${body.error}`);
    return body.data;
  }

  /** The scrape targets as Prometheus sees them. */
  async targets(): Promise<{ scrapeUrl: string; health: string; lastError: string; lastScrape: string; labels: Record<string, string> }[]> {
    const body = await (await fetch(`${this.url}/api/v1/targets`)).json() as { data: { activeTargets: any[] } };
    return body.data.activeTargets;
  }

  /** Waits until every target (of `job`, when given) has been scraped successfully. */
  async waitForTargetsUp(job?: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(`every scrape target${job ? ` of ${job}` : ''} up`, async () => {
      const targets = (await this.targets()).filter((t) => job === undefined || t.labels.job === job);
      const down = targets.filter((t) => t.health !== 'up');
      if (targets.length > 0 && down.length === 0) return true;
      throw new Error(`targets not up: ${down.map((t) => `${t.scrapeUrl} (${t.health}${t.lastError ? `: ${t.lastError}` : ''})`).join(', ')}`);
    }, timeoutMs, 200);
  }

  /**
   * Waits until every target (of `job`, when given) was scraped successfully after this moment: what
   * happened before is then stored.
   */
  async waitForScrapesAfter(job?: string, moment: Date = new Date(), timeoutMs = 15_000): Promise<void> {
    await waitFor(`every target${job ? ` of ${job}` : ''} scraped after ${moment.toISOString()}`, async () => {
      const stale = (await this.targets()).filter((t) => (job === undefined || t.labels.job === job) && (t.health !== 'up' || new Date(t.lastScrape) <= moment));
      if (stale.length === 0) return true;
      throw new Error(`not yet scraped: ${stale.map((t) => `${t.scrapeUrl} (${t.health}, last ${t.lastScrape}${t.lastError ? `: ${t.lastError}` : ''})`).join(', ')}`);
    }, timeoutMs, 200);
  }

  /** Stops Prometheus by PID and removes its data. */
  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    process.kill(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => { if (this.child.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, 'SIGKILL'); }, 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The scrape config: one job per target kind, every target with its own labels, scraped every second. */
export function scrapeConfig(targets: ScrapeTarget[]): string {
  const jobs = new Map<string, ScrapeTarget[]>();
  for (const t of targets) jobs.set(`${t.job}\0${t.metricsPath}`, [...(jobs.get(`${t.job}\0${t.metricsPath}`) ?? []), t]);
  const lines = ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', '  evaluation_interval: 1s', 'scrape_configs:'];
  for (const group of jobs.values()) {
    lines.push(`  - job_name: ${JSON.stringify(group[0].job)}`, `    metrics_path: ${JSON.stringify(group[0].metricsPath)}`, '    static_configs:');
    for (const t of group) {
      lines.push(`      - targets: [${JSON.stringify(t.address)}]`);
      const labels = Object.entries(t.labels ?? {});
      if (labels.length > 0) lines.push(`        labels: { ${labels.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} }`);
    }
  }
  return lines.join('\n') + '\n';
}

export const proxiesJob = 'weft-proxies';
export const controlPlaneJob = 'weft-control-plane';

/** A proxy's admin port as a scrape target. */
export function proxyTarget(name: string, adminPort: number, labels: Record<string, string> = {}): ScrapeTarget {
  return { job: proxiesJob, address: `127.0.0.1:${adminPort}`, metricsPath: '/stats/prometheus', labels: { pod: name, ...labels } };
}

/**
 * The control plane's admin port as a scrape target. Istio's dashboards find istiod by the
 * Kubernetes labels app="istiod" and pod="istiod-..." that discovery adds there; the target carries
 * the same labels so the dashboards find the control plane.
 */
export function controlPlaneTarget(adminPort: number): ScrapeTarget {
  return { job: controlPlaneJob, address: `127.0.0.1:${adminPort}`, metricsPath: '/metrics', labels: { app: 'istiod', pod: 'istiod-weft' } };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
