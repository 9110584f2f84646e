// Validation of one Istio resource given as a plain object (parsed YAML or JSON). Errors are
// returned, never thrown; a resource is returned only when there are none.

import { apiError, type ApiError, type ErrorCode, type ErrorLocation } from './errors.ts';
import { metadataSchema } from './metadata.ts';
import { kindDefinition, type KindDefinition } from './registry.ts';
import type { IstioResource, ObjectMeta } from './resource.ts';
import { isPlainObject, report, type Context, type Schema } from './schema.ts';

export interface ValidateOptions {
  /** Namespace for resources that do not set metadata.namespace. Default `default`. */
  defaultNamespace?: string;
  /** 1-based document index in a multi-document stream, for error messages. */
  document?: number;
  /** File name or other label, for error messages. */
  source?: string;
  /** 0-based index in the items of a `kind: List` document, for error messages. */
  item?: number;
}

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

const metadataSchemas = new WeakMap<KindDefinition, Schema<unknown>>();

function metadataSchemaOf(def: KindDefinition): Schema<unknown> {
  let schema = metadataSchemas.get(def);
  if (schema === undefined) metadataSchemas.set(def, schema = metadataSchema(def.nameProblem));
  return schema;
}

export function validateResource(obj: unknown, options: ValidateOptions = {}): { resource?: IstioResource; errors: ApiError[] } {
  const where: ErrorLocation = { source: options.source, document: options.document, item: options.item };
  const envelopeError = (code: ErrorCode, path: string, message: string) =>
    ({ errors: [apiError({ ...where, code, kind: '', namespace: '', name: '', path, message })] });

  if (!isPlainObject(obj)) {
    return envelopeError('WEFT_E_NOT_AN_OBJECT', '', 'must be an object with apiVersion, kind, metadata and spec');
  }
  const { kind, apiVersion, metadata, spec } = obj;
  if (kind === undefined || kind === null) return envelopeError('WEFT_E_MISSING_FIELD', 'kind', 'is required');
  if (typeof kind !== 'string') return envelopeError('WEFT_E_WRONG_TYPE', 'kind', 'must be a string');
  const def = kindDefinition(kind);
  if (def === undefined) return envelopeError('WEFT_E_UNKNOWN_KIND', '', `kind ${kind} is not a supported Istio kind`);

  // Identify the resource as well as we can, so every error names it.
  const meta = isPlainObject(metadata) ? metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : (options.defaultNamespace ?? 'default');
  const ctx: Context = { issues: [], namespace };

  if (apiVersion === undefined || apiVersion === null) report(ctx, 'WEFT_E_MISSING_FIELD', 'apiVersion', 'is required');
  else if (typeof apiVersion !== 'string') report(ctx, 'WEFT_E_WRONG_TYPE', 'apiVersion', 'must be a string');
  else if (!def.apiVersions.includes(apiVersion)) {
    report(ctx, 'WEFT_E_UNSUPPORTED_API_VERSION', 'apiVersion',
      `${apiVersion} is not served for ${kind}; use one of ${def.apiVersions.join(', ')}`);
  }
  for (const key of Object.keys(obj)) {
    if (!TOP_LEVEL.has(key)) report(ctx, 'WEFT_E_UNKNOWN_FIELD', key, 'unknown field');
  }
  if (metadata === undefined || metadata === null) report(ctx, 'WEFT_E_MISSING_FIELD', 'metadata', 'is required');
  else metadataSchemaOf(def).validate(metadata, 'metadata', ctx);
  // Istio's security kinds may leave spec out: it then means `spec: {}` (an AuthorizationPolicy with
  // no spec allows nothing).
  const specOrDefault = (spec === undefined || spec === null) && def.specOptional ? {} : spec;
  if (specOrDefault === undefined || specOrDefault === null) report(ctx, 'WEFT_E_MISSING_FIELD', 'spec', 'is required');
  else def.spec.validate(specOrDefault, 'spec', ctx);

  if (ctx.issues.length > 0) {
    return { errors: ctx.issues.map((i) => apiError({ ...where, ...i, kind, namespace, name })) };
  }
  const out: ObjectMeta = { name, namespace };
  if (isPlainObject(meta.labels)) out.labels = { ...(meta.labels as Record<string, string>) };
  if (isPlainObject(meta.annotations)) out.annotations = { ...(meta.annotations as Record<string, string>) };
  return { resource: { apiVersion: apiVersion as string, kind, metadata: out, spec: withoutNulls(specOrDefault) }, errors: [] };
}

/** A deep copy with null-valued fields dropped (null means "unset" in Istio's JSON). */
export function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined) continue;
    Object.defineProperty(out, k, { value: withoutNulls(x), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
