// The `istio.io/dry-run` annotation: the policy is evaluated and its result recorded (stats,
// dynamic metadata) but not enforced.
import type { AuthorizationPolicy } from '../../../api/index.ts';

const annotation = 'istio.io/dry-run';
// Go's strconv.ParseBool, which Istio uses to read the annotation.
const trueValues = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const falseValues = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function isDryRun(policy: AuthorizationPolicy, warnings: string[]): boolean {
  const value = policy.metadata.annotations?.[annotation];
  if (value === undefined) return false;
  if (trueValues.has(value)) return true;
  if (!falseValues.has(value)) {
    warnings.push(`AuthorizationPolicy ${policy.metadata.namespace}/${policy.metadata.name}: annotation ${annotation} must be true or false, found "${value}"; the policy is enforced`);
  }
  return false;
}
