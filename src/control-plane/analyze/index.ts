// `weft analyze`: checks the mesh configuration as a whole, as `istioctl analyze` does, for what
// per-resource validation cannot see: references to services, subsets, gateways and delegates that
// do not exist, and resources that conflict. Pure: resources and a registry snapshot in, findings out.
import { ANALYZERS } from './analyzers/index.ts';
import { AnalysisContext, type AnalysisInput, type Analyzer, type Finding } from './context.ts';
import type { Level } from './messages.ts';

export { ANALYZERS } from './analyzers/index.ts';
export { analysisInput } from './input.ts';
export { MESSAGE_TYPES, type Level, type MessageType } from './messages.ts';
export type { AnalysisInput, Analyzer, Finding } from './context.ts';

export interface AnalyzeOptions {
  /** Report only findings about resources of this namespace (all resources are still analyzed). */
  namespace?: string;
  /** Default: every analyzer. */
  analyzers?: readonly Analyzer[];
}

const LEVEL_ORDER: Record<Level, number> = { Error: 0, Warning: 1, Info: 2 };

/** Findings sorted as istioctl sorts them: by level (errors first), code, resource, then text; duplicates dropped. */
export function analyze(input: AnalysisInput, options: AnalyzeOptions = {}): Finding[] {
  const ctx = new AnalysisContext(input);
  for (const analyzer of options.analyzers ?? ANALYZERS) analyzer.analyze(ctx);
  const kept = ctx.findings.filter((f) => options.namespace === undefined || f.namespace === options.namespace);
  kept.sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level]
    || compare(a.code, b.code)
    || compare(`${a.kind}/${a.resourceName}/${a.namespace}`, `${b.kind}/${b.resourceName}/${b.namespace}`)
    || compare(a.message, b.message));
  return kept.filter((f, i) => i === 0 || !sameFinding(f, kept[i - 1]));
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const sameFinding = (a: Finding, b: Finding) => a.code === b.code && a.origin === b.origin && a.message === b.message;
