// Telemetry (telemetry.istio.io): how the selected workloads trace, report metrics and write access
// logs. A Telemetry in the root namespace without a selector applies to the mesh, one without a
// selector to its namespace, one with a selector to the matching workloads of its namespace.
// Validation follows Istio's (pilot's ValidateTelemetry and the CRD's rules).

import {
  array, boolean, duration, enumOf, map, number, object, report, string, type Context, type Problem, type Schema,
} from '../schema.ts';
import type { IstioResource } from '../resource.ts';
import { workloadSelector, type WorkloadSelector } from './common.ts';
import { checkOneTarget, policyTargetReference, policyTargetReferences } from './policy-target.ts';
import type { PolicyTargetReference } from './security-types.ts';
import { celSyntaxProblem } from './telemetry-cel.ts';

/** Which side of an exchange a setting applies to: CLIENT (outbound), SERVER (inbound) or both. */
export type WorkloadMode = 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER';
export const WORKLOAD_MODES: readonly WorkloadMode[] = ['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'];

/** A provider named in MeshConfig.extensionProviders (or a built-in one: `envoy`, `prometheus`). */
export interface ProviderRef {
  name: string;
}

export interface TracingCustomTag {
  literal?: { value: string };
  environment?: { name: string; defaultValue?: string };
  header?: { name: string; defaultValue?: string };
  formatter?: { value: string };
}

export interface Tracing {
  match?: { mode?: WorkloadMode };
  providers?: ProviderRef[];
  /** 0..100; unset: the mesh's defaultConfig.tracing.sampling, else 1%. */
  randomSamplingPercentage?: number;
  disableSpanReporting?: boolean;
  customTags?: Record<string, TracingCustomTag>;
  useRequestIdForTraceSampling?: boolean;
  enableIstioTags?: boolean;
  disableContextPropagation?: boolean;
}

export type IstioMetric =
  | 'ALL_METRICS' | 'REQUEST_COUNT' | 'REQUEST_DURATION' | 'REQUEST_SIZE' | 'RESPONSE_SIZE'
  | 'TCP_OPENED_CONNECTIONS' | 'TCP_CLOSED_CONNECTIONS' | 'TCP_SENT_BYTES' | 'TCP_RECEIVED_BYTES'
  | 'GRPC_REQUEST_MESSAGES' | 'GRPC_RESPONSE_MESSAGES';

export const ISTIO_METRICS: readonly IstioMetric[] = [
  'ALL_METRICS', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS', 'TCP_CLOSED_CONNECTIONS', 'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES',
];

export interface MetricSelector {
  metric?: IstioMetric;
  customMetric?: string;
  mode?: WorkloadMode;
}

export type TagOperation = 'UPSERT' | 'REMOVE';

export interface TagOverride {
  /** Default UPSERT. */
  operation?: TagOperation;
  /** The value expression of an UPSERT (e.g. `request.host`, `'literal'`). */
  value?: string;
}

export interface MetricsOverrides {
  match?: MetricSelector;
  disabled?: boolean;
  tagOverrides?: Record<string, TagOverride>;
}

export interface Metrics {
  providers?: ProviderRef[];
  overrides?: MetricsOverrides[];
  /** Duration; how often long-lived TCP connections report. */
  reportingInterval?: string;
}

export interface AccessLogging {
  match?: { mode?: WorkloadMode };
  providers?: ProviderRef[];
  disabled?: boolean;
  /** A CEL expression; only the requests and connections it is true for are logged. */
  filter?: { expression?: string };
}

export interface TelemetrySpec {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  tracing?: Tracing[];
  metrics?: Metrics[];
  accessLogging?: AccessLogging[];
}

export type Telemetry = IstioResource<TelemetrySpec>;

const nonEmpty = (what: string) => (s: string): Problem => (s === '' ? `${what} may not be empty` : undefined);

const providerRef: Schema<ProviderRef> = object<ProviderRef>({
  name: string({ check: nonEmpty('a provider name') }),
}, { required: ['name'] });

const providers = array(providerRef);
const modeSelector = object<{ mode?: WorkloadMode }>({ mode: enumOf(WORKLOAD_MODES) });

const customTag: Schema<TracingCustomTag> = object<TracingCustomTag>({
  literal: object<{ value: string }>({ value: string({ check: nonEmpty('a literal tag value') }) }, { required: ['value'] }),
  environment: object<{ name: string; defaultValue?: string }>({
    name: string({ check: nonEmpty('an environment tag name') }), defaultValue: string(),
  }, { required: ['name'] }),
  header: object<{ name: string; defaultValue?: string }>({
    name: string({ check: nonEmpty('a header tag name') }), defaultValue: string(),
  }, { required: ['name'] }),
  formatter: object<{ value: string }>({ value: string({ check: nonEmpty('a formatter tag value') }) }, { required: ['value'] }),
}, {
  oneOf: [['literal', 'environment', 'header', 'formatter']],
  check(tag, path, ctx) {
    if (tag.literal === undefined && tag.environment === undefined && tag.header === undefined && tag.formatter === undefined) {
      report(ctx, 'WEFT_E_MISSING_FIELD', path, 'a custom tag must set one of literal, environment, header, formatter');
    }
  },
});

const tracing: Schema<Tracing> = object<Tracing>({
  match: modeSelector,
  providers,
  randomSamplingPercentage: number({ min: 0, max: 100 }),
  disableSpanReporting: boolean(),
  customTags: map(customTag, { key: nonEmpty('a tag name') }),
  useRequestIdForTraceSampling: boolean(),
  enableIstioTags: boolean(),
  disableContextPropagation: boolean(),
});

const tagOverride: Schema<TagOverride> = object<TagOverride>({
  operation: enumOf(['UPSERT', 'REMOVE'] as const),
  value: string(),
}, {
  check(t, path, ctx) {
    const op = t.operation ?? 'UPSERT';
    if (op === 'UPSERT' && (t.value ?? '') === '') {
      report(ctx, 'WEFT_E_MISSING_FIELD', `${path}.value`, 'must be set when operation is UPSERT');
    }
    if (op === 'REMOVE' && t.value !== undefined) {
      report(ctx, 'WEFT_E_CONFLICTING_FIELDS', `${path}.value`, 'may only be set when operation is UPSERT');
    }
  },
});

const metricSelector: Schema<MetricSelector> = object<MetricSelector>({
  metric: enumOf(ISTIO_METRICS),
  customMetric: string({ check: nonEmpty('customMetric') }),
  mode: enumOf(WORKLOAD_MODES),
}, { oneOf: [['metric', 'customMetric']] });

const metricsOverrides: Schema<MetricsOverrides> = object<MetricsOverrides>({
  match: metricSelector,
  disabled: boolean(),
  tagOverrides: map(tagOverride, { key: nonEmpty('a tag name') }),
});

const metrics: Schema<Metrics> = object<Metrics>({
  providers,
  overrides: array(metricsOverrides),
  reportingInterval: duration(),
});

const accessLogging: Schema<AccessLogging> = object<AccessLogging>({
  match: modeSelector,
  providers,
  disabled: boolean(),
  filter: object<{ expression?: string }>({ expression: string({ check: celSyntaxProblem }) }),
});

function checkSpec(spec: TelemetrySpec, path: string, ctx: Context): void {
  checkOneTarget(spec, path, ctx);
}

export const telemetrySpec: Schema<TelemetrySpec> = object<TelemetrySpec>({
  selector: workloadSelector,
  targetRef: policyTargetReference,
  targetRefs: policyTargetReferences,
  tracing: array(tracing),
  metrics: array(metrics),
  accessLogging: array(accessLogging),
}, { check: checkSpec });

/**
 * Istio's warnings for a valid Telemetry: settings it accepts but applies only in part (one tracing
 * entry, one provider per tracing entry).
 */
export function telemetryWarnings(spec: TelemetrySpec): string[] {
  const warnings: string[] = [];
  if ((spec.tracing?.length ?? 0) > 1) warnings.push('spec.tracing: only the last entry that sets a value counts; multiple tracing entries are not fully supported');
  spec.tracing?.forEach((t, i) => {
    if ((t.providers?.length ?? 0) > 1) warnings.push(`spec.tracing[${i}].providers: only the first provider is used`);
  });
  return warnings;
}
