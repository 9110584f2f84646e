// Parsing of multi-document YAML (or JSON) manifests into validated Istio resources. No I/O: the
// caller reads the file and passes its text, and a `source` label for error messages.

import { parseAllDocuments, type YAMLError } from 'yaml';
import { apiError, type ApiError } from './errors.ts';
import type { IstioResource } from './resource.ts';
import { isPlainObject } from './schema.ts';
import { validateResource } from './validate.ts';

export { validateResource, type ValidateOptions } from './validate.ts';

export interface ParseOptions {
  /** File name or other label, prefixed to error messages. */
  source?: string;
  /** Namespace for resources that do not set metadata.namespace. Default `default`. */
  defaultNamespace?: string;
}

export interface ParseResult {
  /** The valid resources, in document order. */
  resources: IstioResource[];
  /** Every error found, in document order; a document with errors contributes no resource. */
  errors: ApiError[];
}

/**
 * Parses `---`-separated YAML documents. Empty documents are skipped; a `kind: List` document is
 * expanded into its `items`. Document numbers in errors are 1-based positions in the stream.
 */
export function parseManifests(text: string, options: ParseOptions = {}): ParseResult {
  const resources: IstioResource[] = [];
  const errors: ApiError[] = [];
  const docs = parseAllDocuments(text, { merge: true, prettyErrors: true });
  let document = 0;
  for (const doc of docs) {
    document++;
    const where = { source: options.source, document };
    if (doc.errors.length > 0) {
      // The parser's later errors in a document usually cascade from its first one.
      errors.push(yamlError(doc.errors[0], where));
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS(); // the yaml package caps alias expansion (maxAliasCount 100)
    } catch (e) {
      errors.push(yamlError(e as Error, where));
      continue;
    }
    if (value === null || value === undefined) continue;
    const items = listItems(value);
    if (items === 'not-a-list') {
      collect(validateResource(value, { ...where, defaultNamespace: options.defaultNamespace }));
    } else if (items === undefined) {
      errors.push(apiError({
        ...where, code: 'WEFT_E_WRONG_TYPE', kind: '', namespace: '', name: '', path: 'items', message: 'must be an array of objects',
      }));
    } else {
      items.forEach((item, i) => collect(validateResource(item, { ...where, item: i, defaultNamespace: options.defaultNamespace })));
    }
  }
  return { resources, errors };

  function collect(result: { resource?: IstioResource; errors: ApiError[] }): void {
    if (result.resource !== undefined) resources.push(result.resource);
    errors.push(...result.errors);
  }
}

/** The items of a `kind: List` document; undefined if its items are not an array. */
function listItems(value: unknown): unknown[] | undefined | 'not-a-list' {
  if (!isPlainObject(value) || value.kind !== 'List') return 'not-a-list';
  if (value.items === undefined || value.items === null) return [];
  return Array.isArray(value.items) ? value.items : undefined;
}

function yamlError(e: YAMLError | Error, where: { source?: string; document: number }): ApiError {
  const pos = 'linePos' in e ? e.linePos?.[0] : undefined;
  // The yaml package appends " at line L, column C:" and a code excerpt; keep the first sentence.
  const reason = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const at = pos === undefined ? '' : ` at line ${pos.line}, column ${pos.col}`;
  return apiError({
    ...where, code: 'WEFT_E_YAML_SYNTAX', kind: '', namespace: '', name: '', path: '',
    message: `YAML syntax error${at}: ${reason}`,
    line: pos?.line, column: pos?.col,
  });
}
