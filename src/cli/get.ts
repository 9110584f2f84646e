// `weft get KIND [NAME] [-o yaml|json]`
import { stringify } from 'yaml';
import { parseFlags, UsageError } from '../common/args.ts';
import { call, serverFlag, serverHelp } from './client.ts';
import { resolveKind } from './kinds.ts';
import { table } from './table.ts';

export const usage = `Usage: weft get KIND [NAME] [flags]

Lists stored Istio resources (KIND: virtualservice|vs, destinationrule|dr, serviceentry|se,
workloadentry|we).

Flags:
  -n, --namespace NS        only this namespace (default: all)
  -o, --output FORMAT       table (default), yaml or json
${serverHelp}`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, {
    namespace: { type: 'string', short: 'n' },
    output: { type: 'string', short: 'o' },
    ...serverFlag,
  }, usage, true);
  if (positionals.length < 1 || positionals.length > 2) throw new UsageError(`get: expected KIND [NAME]\n\n${usage}`);
  const kind = resolveKind(positionals[0]);
  const q = new URLSearchParams({ kind });
  if (values.namespace) q.set('namespace', values.namespace);
  if (positionals[1]) q.set('name', positionals[1]);
  const { items } = await call(values.server, 'GET', `/resources?${q}`);
  if (positionals[1] && items.length === 0) throw new Error(`${kind} ${positionals[1]} not found`);
  const format = values.output ?? 'table';
  const single = positionals[1] && items.length === 1 ? items[0] : undefined;
  if (format === 'json') process.stdout.write(JSON.stringify(single ?? { items }, null, 2) + '\n');
  else if (format === 'yaml') process.stdout.write(single ? stringify(single) : items.map((i: unknown) => stringify(i)).join('---\n'));
  else if (format === 'table') {
    process.stdout.write(table(['NAMESPACE', 'NAME', 'VERSION'], items.map((i: any) => [i.metadata.namespace, i.metadata.name, i.metadata.resourceVersion])));
  } else throw new UsageError(`--output: expected table, yaml or json, got ${JSON.stringify(format)}`);
}
