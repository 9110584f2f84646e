// POST /analyze on the control plane's admin API: analyzes every stored resource, plus the files
// given in the request body as if they were applied (a file's resource replaces a stored one of the
// same kind, namespace and name; nothing is stored). Body, optional: JSON
// `{"files": [{"name": "reviews.yaml", "content": "<YAML>"}]}`. Query `namespace=NS` reports only
// findings about resources of NS (and is the namespace of file resources that name none); without
// it every namespace is reported.
import { parseManifests, resourceKey, type IstioResource } from '../../api/index.ts';
import { HttpError } from '../admin/http-util.ts';
import type { MeshController } from '../controller.ts';
import type { Store } from '../store/index.ts';
import type { Finding, SchemaError } from './context.ts';
import { analyze } from './index.ts';
import { analysisInput } from './input.ts';

/** The kinds analysis reads from the store. */
export const ANALYZED_KINDS = ['VirtualService', 'DestinationRule', 'ServiceEntry', 'WorkloadEntry', 'Gateway'] as const;

export interface AnalyzeResponse {
  /** The namespace reported on; null for all namespaces. */
  namespace: string | null;
  findings: Finding[];
  /** Documents of the given files that are not resources at all (YAML errors, unknown kinds, ...). */
  parseErrors: string[];
}

interface RequestFile { name: string; content: string }

function readFiles(body: string): RequestFile[] {
  if (body.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, { error: 'the body must be JSON: {"files": [{"name": "...", "content": "..."}]}' });
  }
  const files = (parsed as { files?: unknown }).files ?? [];
  const ok = Array.isArray(files) && files.every((f) => typeof f?.name === 'string' && typeof f?.content === 'string');
  if (!ok) throw new HttpError(400, { error: 'files must be an array of {"name": string, "content": string}' });
  return files as RequestFile[];
}

export function analyzeRequest(deps: { store: Store; controller: MeshController }, body: string, namespace: string | undefined): AnalyzeResponse {
  const files = readFiles(body);
  const resources = new Map<string, IstioResource>();
  for (const kind of ANALYZED_KINDS) {
    for (const r of deps.store.list({ kind })) {
      const value = r.value as IstioResource;
      resources.set(resourceKey(value), value);
    }
  }
  const sources = new Map<string, string>();
  const schemaErrors: SchemaError[] = [];
  const parseErrors: string[] = [];
  for (const file of files) {
    const parsed = parseManifests(file.content, { source: file.name, defaultNamespace: namespace ?? 'default' });
    for (const r of parsed.resources) {
      resources.set(resourceKey(r), r);
      sources.set(resourceKey(r), file.name);
    }
    for (const e of parsed.errors) {
      if (e.kind === '' || e.name === '') { parseErrors.push(e.text); continue; }
      const key = `${e.kind}/${e.namespace}/${e.name}`;
      resources.delete(key); // the file's version replaces the stored one, and it is invalid
      sources.set(key, file.name);
      schemaErrors.push({ kind: e.kind, namespace: e.namespace, name: e.name, path: e.path, message: e.message });
    }
  }
  const input = analysisInput({
    resources: [...resources.values()],
    config: deps.controller.meshSnapshot().config,
    proxies: deps.controller.registrations.all(),
    sources,
    schemaErrors,
  });
  return { namespace: namespace ?? null, findings: analyze(input, { namespace }), parseErrors };
}
