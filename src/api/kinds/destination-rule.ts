// DestinationRule (networking.istio.io): policies for traffic to a service after routing, and its
// subsets (named groups of endpoints selected by labels).

import { array, object, report, string, type Context, type Schema } from '../schema.ts';
import { exportTo, labels, reportDuplicates, serviceHostProblem, workloadSelector, type WorkloadSelector } from './common.ts';
import { subsetNameProblem } from './destination.ts';
import { trafficPolicy, type TrafficPolicy } from './traffic-policy.ts';

export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
  workloadSelector?: WorkloadSelector;
}

export const subset: Schema<Subset> = object<Subset>({
  name: string({ check: subsetNameProblem }),
  labels: labels(),
  trafficPolicy,
}, { required: ['name'] });

function checkSpec(dr: DestinationRuleSpec, path: string, ctx: Context): void {
  reportDuplicates(ctx, `${path}.subsets`, (dr.subsets ?? []).map((s) => s.name), 'subset name', '.name');
  // A rule with a workload selector applies to the workloads of its own namespace only.
  if (dr.workloadSelector !== undefined && dr.exportTo !== undefined) {
    const local = dr.exportTo.every((e) => e === '.' || e === ctx.namespace);
    if (!local) {
      report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.exportTo`,
        'a destination rule with a workloadSelector can only be exported to its own namespace');
    }
  }
}

export const destinationRuleSpec: Schema<DestinationRuleSpec> = object<DestinationRuleSpec>({
  host: string({ check: serviceHostProblem }),
  trafficPolicy,
  subsets: array(subset),
  exportTo: exportTo(),
  workloadSelector,
}, { required: ['host'], check: checkSpec });
