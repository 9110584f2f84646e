// `weft apply -f FILE|-`
import { parseFlags, UsageError } from '../common/args.ts';
import { call, serverFlag, serverHelp } from './client.ts';
import { readManifest } from './read-input.ts';

export const usage = `Usage: weft apply -f FILE|- [flags]

Validates every resource in FILE (multi-document YAML of Istio resources) and stores them all,
or none if any is invalid.

Flags:
  -f, --filename FILE       the manifest, or - for standard input (repeatable)
  -n, --namespace NS        namespace for resources that name none (default default)
${serverHelp}`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    filename: { type: 'string', short: 'f', multiple: true },
    namespace: { type: 'string', short: 'n' },
    ...serverFlag,
  }, usage);
  if (!values.filename?.length) throw new UsageError(`apply: -f FILE is required\n\n${usage}`);
  const text = (await Promise.all(values.filename.map(readManifest))).join('\n---\n');
  const ns = values.namespace ? `?namespace=${encodeURIComponent(values.namespace)}` : '';
  const result = await call(values.server, 'POST', `/apply${ns}`, text);
  for (const r of result.results) process.stdout.write(`${r.kind.toLowerCase()}/${r.name} ${r.action} (namespace ${r.namespace})\n`);
  for (const w of result.warnings ?? []) process.stderr.write(`Warning: ${w}\n`);
}
