// `weft analyze [-f FILE]`: the control plane's analysis of its stored configuration, printed as
// `istioctl analyze` prints it, with istioctl's exit codes (79: errors found, 65: a file could not
// be parsed).
import { stringify } from 'yaml';
import { parseFlags, UsageError } from '../common/args.ts';
import { call, serverFlag, serverHelp } from './client.ts';
import { readManifest } from './read-input.ts';

export const usage = `Usage: weft analyze [-f FILE]... [flags]

Analyzes the mesh configuration stored in the control plane, as istioctl analyze does: references
to services, ports, subsets, gateways and delegate VirtualServices that do not exist, resources that
conflict, subsets that select no workload. With -f, the file's resources are analyzed together with
the stored ones, as if they were applied (nothing is stored). One line per finding:
  Error [IST0101] (VirtualService default/reviews) Referenced host not found: "reviews"

Flags:
  -f, --filename FILE           also analyze this manifest, or - for standard input (repeatable)
  -n, --namespace NS            report on this namespace (default default)
  -A, --all-namespaces          report on every namespace
  -o, --output FORMAT           log (default), json or yaml
      --output-threshold LEVEL  print findings of this level or worse: Info (default), Warning, Error
      --failure-threshold LEVEL exit 79 on findings of this level or worse: Error (default), Warning, Info
${serverHelp}

Exit status (log output): 0 when no finding reaches the failure threshold, 79 when one does, 65 when
a document of a file is not a resource (YAML error, unknown kind); json and yaml output exit 0.`;

/** istioctl's exit codes: analysis found issues; some input could not be parsed. */
export const EXIT_ANALYZER_FOUND_ISSUES = 79;
export const EXIT_DATA_ERROR = 65;

const LEVELS = ['Error', 'Warning', 'Info'] as const;
type Level = (typeof LEVELS)[number];

interface Finding {
  code: string;
  level: Level;
  origin: string;
  reference?: string;
  message: string;
  documentationUrl?: string;
}

function level(value: string | undefined, flag: string, fallback: Level): Level {
  if (value === undefined) return fallback;
  const found = LEVELS.find((l) => l.toLowerCase() === value.toLowerCase());
  if (!found) throw new UsageError(`${flag}: expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
  return found;
}

const atLeast = (l: Level, threshold: Level) => LEVELS.indexOf(l) <= LEVELS.indexOf(threshold);

/** `Error [IST0101] (VirtualService default/reviews reviews.yaml) Referenced host not found: "reviews"` */
export function formatFinding(f: Finding): string {
  return `${f.level} [${f.code}] (${f.origin}${f.reference ? ` ${f.reference}` : ''}) ${f.message}`;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    filename: { type: 'string', short: 'f', multiple: true },
    namespace: { type: 'string', short: 'n' },
    'all-namespaces': { type: 'boolean', short: 'A' },
    output: { type: 'string', short: 'o' },
    'output-threshold': { type: 'string' },
    'failure-threshold': { type: 'string' },
    ...serverFlag,
  }, usage);
  const format = values.output ?? 'log';
  if (!['log', 'json', 'yaml'].includes(format)) throw new UsageError(`--output: expected log, json or yaml, got ${JSON.stringify(format)}`);
  const outputThreshold = level(values['output-threshold'], '--output-threshold', 'Info');
  const failureThreshold = level(values['failure-threshold'], '--failure-threshold', 'Error');
  const all = values['all-namespaces'] === true;
  const namespace = values.namespace ?? 'default';
  const names = values.filename ?? [];
  const files = await Promise.all(names.map(async (name) => ({ name: name === '-' ? 'stdin' : name, content: await readManifest(name) })));

  const query = all ? '' : `?namespace=${encodeURIComponent(namespace)}`;
  const result = await call(values.server, 'POST', `/analyze${query}`, JSON.stringify({ files }), 'application/json');
  const findings = (result.findings as (Finding & Record<string, unknown>)[])
    .map(({ code, level: l, origin, reference, message, documentationUrl }) => ({
      code, level: l, origin, ...(reference ? { reference } : {}), message, ...(documentationUrl ? { documentationUrl } : {}),
    }));
  const parseErrors = result.parseErrors as string[];
  const shown = findings.filter((f) => atLeast(f.level, outputThreshold));

  for (const e of parseErrors) process.stderr.write(`Error: ${e}\n`);
  if (format === 'json') process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
  if (format === 'yaml') process.stdout.write(shown.length > 0 ? stringify(shown) : '[]\n');
  if (format !== 'log') return;

  for (const f of shown) process.stdout.write(formatFinding(f) + '\n');
  const target = all ? 'all namespaces' : `namespace: ${namespace}`;
  if (shown.length === 0) {
    const what = files.length === 0 ? target : files.map((f) => f.name).join(', ');
    if (parseErrors.length === 0) process.stderr.write(`\u2714 No validation issues found when analyzing ${what}.\n`);
    else process.stderr.write(`No validation issues found when analyzing ${what} (but ${parseErrors.length} ${parseErrors.length === 1 ? 'document' : 'documents'} could not be parsed).\n`);
  }
  if (findings.some((f) => atLeast(f.level, failureThreshold))) {
    process.stderr.write(`Error: Analyzers found issues when analyzing ${target}.\n`);
    process.exitCode = EXIT_ANALYZER_FOUND_ISSUES;
  } else if (parseErrors.length > 0) {
    process.exitCode = EXIT_DATA_ERROR;
  }
}
