// Registers the built-in load balancers; called once when a DataPlane is created.
import { register as registerRoundRobin } from './round-robin/round-robin.ts';
import { register as registerRandom } from './random/random.ts';

let registered = false;

export function registerBuiltinLoadBalancers(): void {
  if (registered) return;
  registered = true;
  registerRoundRobin();
  registerRandom();
}
