// `weft proxy-status`: per proxy, connected since, and per xDS type the last ACKed version and state.
import { parseFlags } from '../common/args.ts';
import { call, serverFlag, serverHelp } from './client.ts';
import { table } from './table.ts';

export const usage = `Usage: weft proxy-status [PROXY-ID] [flags]

Shows every proxy connected to the control plane: when it connected and, per xDS type (CDS, EDS,
LDS, RDS), the last version it ACKed and whether it is SYNCED, STALE (sent, not yet ACKed) or
NACKED (rejected, with the proxy's reason).

Flags:
  -o, --output FORMAT       table (default) or json
${serverHelp}`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { output: { type: 'string', short: 'o' }, ...serverFlag }, usage, true);
  const { proxies } = await call(values.server, 'GET', '/proxies');
  const shown = positionals[0] ? proxies.filter((p: any) => p.id === positionals[0]) : proxies;
  if (values.output === 'json') {
    process.stdout.write(JSON.stringify({ proxies: shown }, null, 2) + '\n');
    return;
  }
  const types = ['CDS', 'EDS', 'LDS', 'RDS', 'SDS'];
  const rows = shown.map((p: any) => [
    p.id,
    p.connectedSince,
    ...types.map((t) => {
      const s = p.types.find((x: any) => x.type === t);
      return s ? `${s.state}${s.versionAcked ? ` (${s.versionAcked.slice(0, 8)})` : ''}` : 'NOT SENT';
    }),
  ]);
  process.stdout.write(table(['NAME', 'CONNECTED SINCE', ...types], rows));
  for (const p of shown) {
    for (const t of p.types) if (t.state === 'NACKED') process.stdout.write(`${p.id} ${t.type} NACKED: ${t.error}\n`);
  }
}
