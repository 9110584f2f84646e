// Results of validating config on `weft apply`, as Istio's validation webhook counts them
// (galley_validation_passed / galley_validation_failed, labels group, version, resource, reason).
import { Counter } from 'prom-client';
import { kindDefinition, type ApiError } from '../../api/index.ts';
import { controlPlaneRegistry } from './registry.ts';

const registers = [controlPlaneRegistry];

const passed = new Counter({
  name: 'galley_validation_passed', help: 'Resource is valid', labelNames: ['group', 'version', 'resource'] as const, registers,
});
const failed = new Counter({
  name: 'galley_validation_failed', help: 'Resource validation failed', labelNames: ['group', 'version', 'resource', 'reason'] as const, registers,
});

/** Istio's reasons: a document that is not YAML, a kind it does not know, or a resource that breaks its schema. */
export type ValidationFailure = 'yaml_decode_error' | 'unknown_type' | 'invalid_resource';

/** `apiVersion` as written (`networking.istio.io/v1`), `kind` as written (`VirtualService`). */
export function recordValidationPassed(apiVersion: string, kind: string): void {
  passed.inc(labelsOf(apiVersion, kind));
}

/**
 * Counts one failure per resource (YAML document or List item) among `errors`; the apiVersion the
 * user wrote is not kept with an error, so the group is the kind's and the version is left empty.
 */
export function recordValidationErrors(errors: readonly ApiError[]): void {
  const seen = new Set<string>();
  for (const e of errors) {
    const key = `${e.source ?? ''}#${e.document ?? 0}#${e.item ?? -1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const group = kindDefinition(e.kind)?.apiVersions[0]?.split('/')[0] ?? '';
    failed.inc({ ...labelsOf(group ? `${group}/` : '', e.kind), reason: reasonOf(e) });
  }
}

function reasonOf(e: ApiError): ValidationFailure {
  switch (e.code) {
    case 'WEFT_E_YAML_SYNTAX':
    case 'WEFT_E_NOT_AN_OBJECT':
      return 'yaml_decode_error';
    case 'WEFT_E_UNKNOWN_KIND':
    case 'WEFT_E_UNSUPPORTED_API_VERSION':
      return 'unknown_type';
    default:
      return 'invalid_resource';
  }
}

/** Kubernetes names a resource type by its lower-case plural (`virtualservices`). */
function labelsOf(apiVersion: string, kind: string): { group: string; version: string; resource: string } {
  const slash = apiVersion.lastIndexOf('/');
  const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
  const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  const lower = kind.toLowerCase();
  const resource = lower === '' ? '' : lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  return { group, version, resource };
}
