// metadata of an Istio resource: name (required), namespace (defaulted by the caller), labels and
// annotations. The rest of Kubernetes' ObjectMeta (resourceVersion, uid, managedFields, ...) is
// tolerated, so `kubectl get -o yaml` output parses, and dropped.

import { object, string, stringMap, tolerated, type Problem, type Schema } from './schema.ts';
import { namespaceProblem, objectNameProblem } from './names.ts';
import { labels } from './kinds/common.ts';

export interface WrittenMetadata {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generateName?: never;
  selfLink?: never;
  uid?: never;
  resourceVersion?: never;
  generation?: never;
  creationTimestamp?: never;
  deletionTimestamp?: never;
  deletionGracePeriodSeconds?: never;
  ownerReferences?: never;
  finalizers?: never;
  managedFields?: never;
}

export function metadataSchema(nameProblem?: (name: string) => Problem): Schema<WrittenMetadata> {
  return object<WrittenMetadata>({
    name: string({ check: (n) => objectNameProblem(n) ?? nameProblem?.(n) }),
    namespace: string({ check: (ns) => (ns === '' ? undefined : namespaceProblem(ns)) }),
    labels: labels(),
    annotations: stringMap(),
    generateName: tolerated(),
    selfLink: tolerated(),
    uid: tolerated(),
    resourceVersion: tolerated(),
    generation: tolerated(),
    creationTimestamp: tolerated(),
    deletionTimestamp: tolerated(),
    deletionGracePeriodSeconds: tolerated(),
    ownerReferences: tolerated(),
    finalizers: tolerated(),
    managedFields: tolerated(),
  }, { required: ['name'] });
}
