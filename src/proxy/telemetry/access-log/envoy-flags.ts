// Envoy's response flags in the order of its CoreResponseFlag enum: the names a response_flag_filter
// may list, and the bit positions of the number CEL's `response.flags` holds (1 << index).
import { formatResponseFlags } from '../response-flags.ts';

export const envoyResponseFlagNames: readonly string[] = [
  'LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE',
  'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR',
];

const envoyBitByName = new Map(envoyResponseFlagNames.map((name, i) => [name, 2 ** i]));

/** The proxy's flags as Envoy's numeric bit set (CEL `response.flags`). */
export function envoyResponseFlagsNumber(flags: number): number {
  if (flags === 0) return 0;
  let out = 0;
  for (const name of formatResponseFlags(flags).split(',')) out += envoyBitByName.get(name) ?? 0;
  return out;
}
