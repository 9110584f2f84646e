// `weft delete KIND NAME` or `weft delete -f FILE`
import { parseFlags, UsageError } from '../common/args.ts';
import { call, serverFlag, serverHelp } from './client.ts';
import { resolveKind } from './kinds.ts';
import { readManifest } from './read-input.ts';

export const usage = `Usage: weft delete KIND NAME [-n NS] | weft delete -f FILE|-

Deletes Istio resources from the control plane's store.

Flags:
  -f, --filename FILE       delete every resource the manifest names
  -n, --namespace NS        namespace (default default)
${serverHelp}`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, {
    filename: { type: 'string', short: 'f' },
    namespace: { type: 'string', short: 'n' },
    ...serverFlag,
  }, usage, true);
  const ns = values.namespace ?? 'default';
  let result;
  if (values.filename) {
    result = await call(values.server, 'POST', `/delete?namespace=${encodeURIComponent(ns)}`, await readManifest(values.filename));
  } else {
    if (positionals.length !== 2) throw new UsageError(`delete: expected KIND NAME or -f FILE\n\n${usage}`);
    const kind = resolveKind(positionals[0]);
    result = await call(values.server, 'DELETE', `/resources/${kind}/${encodeURIComponent(ns)}/${encodeURIComponent(positionals[1])}`);
  }
  for (const r of result.results) process.stdout.write(`${r.kind.toLowerCase()}/${r.name} ${r.action} (namespace ${r.namespace})\n`);
}
