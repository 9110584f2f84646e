// Registers the built-in load balancers; called once when a DataPlane is created.
import { register as registerLeastRequest } from './least-request/least-request.ts';
import { register as registerMaglev } from './maglev/maglev.ts';
import { register as registerRandom } from './random/random.ts';
import { register as registerRingHash } from './ring-hash/ring-hash.ts';
import { register as registerRoundRobin } from './round-robin/round-robin.ts';

let registered = false;

export function registerBuiltinLoadBalancers(): void {
  if (registered) return;
  registered = true;
  registerRoundRobin();
  registerLeastRequest();
  registerRandom();
  registerRingHash();
  registerMaglev();
}
