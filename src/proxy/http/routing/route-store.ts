// The route tables delivered by RDS, by name. A connection manager holds the slot of its
// rds.route_config_name; an update replaces every slot's table in one synchronous step, and a request
// reads `slot.table` once when it starts, so it routes on the old table or the new one, never a mix.
import { ConfigRejectedError } from '../../upstream/envoy-config.ts';
import { compileRouteConfiguration, type RouteCompileContext } from './route-config.ts';
import type { RouteTable } from './route-table.ts';

export class RouteSlot {
  readonly name: string;
  /** null until the RouteConfiguration arrives (or after it is removed). */
  table: RouteTable | null;

  constructor(name: string, table: RouteTable | null = null) {
    this.name = name;
    this.table = table;
  }
}

export class RouteStore {
  private readonly slots = new Map<string, RouteSlot>();

  /** The slot for an RDS name, created empty if no route configuration of that name arrived yet. */
  slot(name: string): RouteSlot {
    let slot = this.slots.get(name);
    if (!slot) this.slots.set(name, (slot = new RouteSlot(name)));
    return slot;
  }

  /** Replaces the complete set of route configurations (validated and compiled first). */
  update(resources: object[], context: RouteCompileContext): void {
    const tables = new Map<string, RouteTable>();
    for (const resource of resources) {
      const name = (resource as { name?: unknown }).name;
      if (typeof name !== 'string' || name === '') throw new ConfigRejectedError('RouteConfiguration (unnamed): name is required');
      if (tables.has(name)) throw new ConfigRejectedError(`RouteConfiguration ${name}: name appears twice in the update`);
      tables.set(name, compileRouteConfiguration(`RouteConfiguration ${name}`, resource, context, false));
    }
    for (const [name, table] of tables) this.slot(name).table = table;
    for (const [name, slot] of this.slots) if (!tables.has(name)) slot.table = null;
  }

  names(): string[] {
    return [...this.slots.values()].filter((s) => s.table !== null).map((s) => s.name);
  }
}
