// `weft`: one file per command; each exports `usage` and `run(argv)`.
import { UsageError } from '../common/args.ts';

interface Command { usage: string; run(argv: string[]): Promise<void> }

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  'control-plane': { summary: 'run the control plane', load: () => import('./control-plane.ts') },
  proxy: { summary: 'run a sidecar proxy', load: () => import('./proxy.ts') },
  apply: { summary: 'validate and store Istio resources from a file', load: () => import('./apply.ts') },
  get: { summary: 'list stored Istio resources', load: () => import('./get.ts') },
  delete: { summary: 'delete Istio resources', load: () => import('./delete.ts') },
  'proxy-status': { summary: 'xDS sync status of every connected proxy', load: () => import('./proxy-status.ts') },
  token: { summary: 'create, list and revoke workload tokens', load: () => import('./token.ts') },
  ca: { summary: 'the certificate authority: trust bundle, root rotation', load: () => import('./ca.ts') },
  analyze: { summary: 'find problems in the stored configuration (as istioctl analyze)', load: () => import('./analyze.ts') },
};

const usage = `Usage: weft COMMAND [flags]

Weft is a service mesh: a control plane that speaks Istio's API and Envoy's xDS, and sidecars.

Commands:
${Object.entries(commands).map(([n, c]) => `  ${n.padEnd(16)}${c.summary}`).join('\n')}

Run 'weft COMMAND --help' for a command's flags.`;

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage + '\n');
    if (!name) process.exitCode = 2;
    return;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`weft: unknown command ${JSON.stringify(name)}\n\n${usage}\n`);
    process.exitCode = 2;
    return;
  }
  try {
    await (await entry.load()).run(rest);
  } catch (err) {
    process.stderr.write(`weft ${name}: ${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
