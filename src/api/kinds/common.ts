// Types and schemas shared by several kinds: percentages, port selectors, workload selectors,
// label maps, exportTo, host names.

import {
  array, integer, map, number, object, report, string, type Context, type Problem, type Schema,
} from '../schema.ts';
import { isDns1123Label, isIP, labelKeyProblem, labelValueProblem, wildcardHostProblem } from '../names.ts';

/** A percentage, 0.0 to 100.0 (Istio's `Percent`). */
export interface Percent {
  value?: number;
}

export const percent: Schema<Percent> = object<Percent>({
  value: number({ min: 0, max: 100 }),
}, {
  check(p, path, ctx) {
    // Envoy's fractional percent resolution: Istio rejects values between 0 and 0.0001.
    if (p.value !== undefined && p.value > 0 && p.value < 0.0001) {
      report(ctx, 'WEFT_E_OUT_OF_RANGE', `${path}.value`, 'must be 0 or at least 0.0001');
    }
  },
});

/**
 * A percentage of mirrored requests: 0.0 to 100.0. Istio checks mirror percentages against the
 * range only; the 0.0001 floor of `percent` is its rule for fault injection.
 */
export const mirrorPercent: Schema<Percent> = object<Percent>({
  value: number({ min: 0, max: 100 }),
});

/** Selects a port of a service by number. */
export interface PortSelector {
  number: number;
}

export const portNumber = (): Schema<number> => integer({ min: 1, max: 65535 });

export const portSelector: Schema<PortSelector> = object<PortSelector>({
  number: portNumber(),
}, { required: ['number'] });

/** Label maps (selectors, subset labels): keys and values as Kubernetes labels. */
export function labels(): Schema<Record<string, string>> {
  return map(string({ check: labelValueProblem }), { key: labelKeyProblem });
}

/** `workloadSelector` of a DestinationRule (and of security kinds): `matchLabels`. */
export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

// Label rules already exclude the wildcards Istio rejects in selectors.
export const workloadSelector: Schema<WorkloadSelector> = object<WorkloadSelector>({
  matchLabels: labels(),
});

/** `workloadSelector` of a ServiceEntry (and Sidecar): `labels`. */
export interface ServiceEntryWorkloadSelector {
  labels?: Record<string, string>;
}

export const serviceEntryWorkloadSelector: Schema<ServiceEntryWorkloadSelector> = object<ServiceEntryWorkloadSelector>({
  labels: labels(),
});

/** A host a rule applies to: a (short or fully qualified) name, optionally wildcarded, or an IP address. */
export function hostProblem(host: string): Problem {
  if (isIP(host)) return undefined;
  return wildcardHostProblem(host);
}

/**
 * A service host named by a destination or a DestinationRule: a (short or fully qualified) name,
 * optionally wildcarded; Istio's validation (ValidateWildcardDomain) takes no IP address here.
 */
export function serviceHostProblem(host: string): Problem {
  if (isIP(host)) return `"${host}" is an IP address; name the service by its host name`;
  return wildcardHostProblem(host);
}

/**
 * exportTo: `.` (this namespace), `*` (all), namespace names, and for ServiceEntry `~` (none).
 * Duplicates are errors, and `*` or `~` must stand alone.
 */
export function exportTo(options: { allowNone?: boolean } = {}): Schema<string[]> {
  const inner = array(string());
  return {
    expected: inner.expected, plural: inner.plural,
    validate(value, path, ctx) {
      const before = ctx.issues.length;
      inner.validate(value, path, ctx);
      if (ctx.issues.length !== before) return;
      checkExportTo(value as string[], path, ctx, options.allowNone === true);
    },
  };
}

function checkExportTo(entries: string[], path: string, ctx: Context, allowNone: boolean): void {
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const p = `${path}[${i}]`;
    const valid = e === '.' || e === '*' || (allowNone && e === '~') || isDns1123Label(e);
    if (!valid) {
      const what = allowNone ? '".", "*", "~" or a namespace name' : '".", "*" or a namespace name';
      report(ctx, 'WEFT_E_INVALID_VALUE', p, `must be ${what} (got "${e}")`);
      return;
    }
    const key = e === '.' ? ctx.namespace : e;
    if (seen.has(key)) report(ctx, 'WEFT_E_DUPLICATE', p, `duplicate entry "${e}"`);
    seen.add(key);
  });
  if (entries.length > 1 && entries.includes('*')) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, '"*" (public) cannot be combined with other entries');
  }
  if (entries.length > 1 && entries.includes('~')) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, '"~" (exported to no one) cannot be combined with other entries');
  }
}

/** Reports duplicates among `values` (with their index) at `path[i]<suffix>`. */
export function reportDuplicates(
  ctx: Context, path: string, values: readonly (string | number | undefined)[], what: string, suffix = '',
): void {
  const seen = new Set<string | number>();
  values.forEach((v, i) => {
    if (v === undefined) return;
    if (seen.has(v)) report(ctx, 'WEFT_E_DUPLICATE', `${path}[${i}]${suffix}`, `duplicate ${what} ${JSON.stringify(v)}`);
    seen.add(v);
  });
}
