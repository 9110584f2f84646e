// schema.ValidationAnalyzer: resources given for analysis (`weft analyze -f FILE`) that fail
// validation are reported, one finding per error, instead of being analyzed. Stored resources
// were validated when applied.
import type { Analyzer } from '../context.ts';
import { SchemaValidationError } from '../messages.ts';

export const schemaValidation: Analyzer = {
  name: 'schema.ValidationAnalyzer',
  description: 'Reports resources that fail validation',
  analyze(ctx) {
    for (const e of ctx.schemaErrors) {
      ctx.report({ kind: e.kind, metadata: { namespace: e.namespace, name: e.name } }, SchemaValidationError, e.path === '' ? e.message : `${e.path}: ${e.message}`);
    }
  },
};
