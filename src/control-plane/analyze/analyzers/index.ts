// Every analyzer `weft analyze` runs, in the order they run (the order of findings is decided by
// sorting, not by this list). To add one: write a file here exporting an Analyzer, add it below.
import type { Analyzer } from '../context.ts';
import { conflictingDestinationRules } from './conflicting-destination-rules.ts';
import { conflictingMeshHosts } from './conflicting-mesh-hosts.ts';
import { delegates } from './delegates.ts';
import { destinationHosts } from './destination-hosts.ts';
import { destinationRuleHosts } from './destination-rule-hosts.ts';
import { destinationRuleSubsets } from './destination-rule-subsets.ts';
import { destinationSubsets } from './destination-subsets.ts';
import { gateways } from './gateways.ts';
import { schemaValidation } from './schema-validation.ts';

export const ANALYZERS: readonly Analyzer[] = [
  schemaValidation,
  destinationHosts,
  destinationSubsets,
  destinationRuleHosts,
  destinationRuleSubsets,
  conflictingMeshHosts,
  conflictingDestinationRules,
  gateways,
  delegates,
];
