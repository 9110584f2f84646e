// A mesh on 127.0.0.1 made of real processes: the control plane, sidecars and sample apps.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startProcess, stopProcess, type ManagedProcess } from './process.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const weftBin = join(repoRoot, 'bin/weft.js');

export interface ControlPlaneReady { xdsPort: number; adminPort: number }
export interface ProxyReady {
  adminPort: number;
  outboundPort?: number;
  inbound: { servicePort: number; port: number; appPort: number }[];
  outboundTcp?: { servicePort: number; port: number }[];
}

export interface ProxyOptions {
  name: string;
  namespace?: string;
  /** The workload's service account (its token and certificate say so); default `default`. */
  serviceAccount?: string;
  /** Start without a token (on a mesh that requires tokens, the proxy then never gets config). */
  noToken?: boolean;
  /** Do not wait for the proxy's ready line (a proxy expected to be refused). */
  noWait?: boolean;
  labels: Record<string, string>;
  inbound?: { servicePort: number; appPort: number }[];
  outbound?: boolean;
  extraArgs?: string[];
}

export class Mesh {
  readonly dataDir: string;
  controlPlane!: ManagedProcess<ControlPlaneReady>;
  readonly processes: ManagedProcess<any>[] = [];
  private readonly ownsDataDir: boolean;
  private readonly echo: boolean;
  private readonly cpArgs: string[];
  xdsPort = 0;
  adminPort = 0;
  private tokens = 0;

  private constructor(dataDir: string, ownsDataDir: boolean, echo: boolean, cpArgs: string[]) {
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.echo = echo;
    this.cpArgs = cpArgs;
  }

  /**
   * A mesh as operators run it: ADS over TLS, a workload token per proxy. `demo`: plaintext ADS and no
   * tokens (`weft control-plane --demo`), as `npm run demo` runs.
   */
  static async start(options: { dataDir?: string; echo?: boolean; controlPlaneArgs?: string[]; demo?: boolean } = {}): Promise<Mesh> {
    const dataDir = options.dataDir ?? await mkdtemp(join(tmpdir(), 'weft-mesh-'));
    const cpArgs = [...(options.demo ? ['--demo'] : []), ...(options.controlPlaneArgs ?? [])];
    const mesh = new Mesh(dataDir, !options.dataDir, options.echo ?? false, cpArgs);
    await mesh.startControlPlane();
    return mesh;
  }

  get server(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  /** Starts (or restarts) the control plane; on restart it keeps its xDS port so proxies find it. */
  async startControlPlane(): Promise<void> {
    const args = [weftBin, 'control-plane', '--data-dir', this.dataDir,
      '--xds-address', `127.0.0.1:${this.xdsPort}`, '--admin-address', `127.0.0.1:${this.adminPort}`, ...this.cpArgs];
    this.controlPlane = await startProcess<ControlPlaneReady>('control-plane', args, { echo: this.echo });
    this.processes.push(this.controlPlane);
    this.xdsPort = this.controlPlane.ready.xdsPort;
    this.adminPort = this.controlPlane.ready.adminPort;
  }

  /** ADS is plaintext (the control plane runs with --demo or --plaintext-xds). */
  get plaintextXds(): boolean {
    return this.cpArgs.includes('--demo') || this.cpArgs.includes('--plaintext-xds');
  }

  /** Tokens are not required (--demo or --no-require-tokens). */
  get tokensOptional(): boolean {
    return this.cpArgs.includes('--demo') || this.cpArgs.includes('--no-require-tokens');
  }

  /** The trust bundle the control plane wrote (what proxies verify its xDS certificate with). */
  get rootCertFile(): string {
    return join(this.dataDir, 'root-cert.pem');
  }

  /** A workload token from the control plane, written to a file for `weft proxy --token-file`. */
  async tokenFile(namespace: string, serviceAccount: string, ttl?: string): Promise<string> {
    const r = await this.weft(['token', 'create', '-n', namespace, '--service-account', serviceAccount, ...(ttl ? ['--ttl', ttl] : [])]);
    if (r.code !== 0) throw new Error(`weft token create failed (${r.code}): ${r.stderr}`);
    await mkdir(join(this.dataDir, 'tokens'), { recursive: true });
    const file = join(this.dataDir, 'tokens', `${namespace}.${serviceAccount}.${this.tokens++}.token`);
    await writeFile(file, r.stdout.trim() + '\n', { mode: 0o600 });
    return file;
  }

  /** The flags a proxy needs to reach this control plane (TLS trust bundle, token). */
  async xdsArgs(namespace: string, serviceAccount: string, withToken = true): Promise<string[]> {
    const args = this.plaintextXds ? ['--plaintext-xds'] : ['--xds-root-cert', this.rootCertFile];
    if (withToken && !this.tokensOptional) args.push('--token-file', await this.tokenFile(namespace, serviceAccount));
    return args;
  }

  async startProxy(o: ProxyOptions): Promise<ManagedProcess<ProxyReady>> {
    const namespace = o.namespace ?? 'default';
    const args = [weftBin, 'proxy', '--xds-address', `127.0.0.1:${this.xdsPort}`, '--admin-address', '127.0.0.1:0',
      '--namespace', namespace, '--workload-name', o.name, '--node-id', `${o.name}.${namespace}`,
      '--labels', Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(','),
      ...(o.serviceAccount ? ['--service-account', o.serviceAccount] : []),
      ...await this.xdsArgs(namespace, o.serviceAccount ?? 'default', !o.noToken)];
    for (const i of o.inbound ?? []) args.push('--inbound', `${i.servicePort}:${i.appPort}`);
    if (o.outbound === false) args.push('--no-outbound');
    else args.push('--outbound-port', '0');
    args.push(...(o.extraArgs ?? []));
    const p = await startProcess<ProxyReady>(`proxy ${o.name}`, args, { echo: this.echo, ...(o.noWait ? { noWait: true } : {}) });
    this.processes.push(p);
    return p;
  }

  async startApp(name: string, script: string, args: string[], env: Record<string, string> = {}): Promise<ManagedProcess<{ port: number }>> {
    const p = await startProcess<{ port: number }>(name, [script, ...args], { env, echo: this.echo });
    this.processes.push(p);
    return p;
  }

  /** Runs the `weft` CLI against this mesh's control plane. */
  async weft(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [weftBin, ...args, '--server', this.server], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(stdin ?? '');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stdout, stderr };
  }

  async apply(yaml: string): Promise<string> {
    const r = await this.weft(['apply', '-f', '-'], yaml);
    if (r.code !== 0) throw new Error(`weft apply failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => stopProcess(p)));
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
