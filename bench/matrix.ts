// What one round measures, in order: the closed loop against the single proxies over
// {protocol} × {body}, then the open loop against direct and the pairs at each rate (HTTP/1.1, small
// bodies). Targets are interleaved within a round, and their order rotates from round to round so
// that none always runs first.
import type { Body } from './bodies.ts';
import type { Params, Protocol } from './params.ts';
import { pairIds, singleIds, type Target, type TargetId } from './target.ts';

export interface Cell {
  kind: 'closed' | 'open';
  target: TargetId;
  protocol: Protocol;
  body: Body;
  /** Open loop: requests per second; closed loop: 0. */
  rate: number;
}

/** The key a cell's samples are stored under (the same cell in every round). */
export function cellKey(c: Pick<Cell, 'kind' | 'target' | 'protocol' | 'body' | 'rate'>): string {
  return `${c.kind}/${c.target}/${c.protocol}/${c.body}/${c.rate}`;
}

function rotate<T>(items: T[], by: number): T[] {
  if (items.length === 0) return items;
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Whether a path can be measured with this protocol (direct: the upstream speaks HTTP/1.1 only). */
export function speaks(target: Target, protocol: Protocol): boolean {
  return protocol === 'h1' || target.h2Port !== null;
}

/** Targets (started or not) a kind of measurement covers, in the matrix's order. */
export function idsFor(kind: Cell['kind'], wanted: Set<TargetId>): TargetId[] {
  return (kind === 'closed' ? singleIds : pairIds).filter((id) => wanted.has(id));
}

export function roundCells(params: Params, round: number): Cell[] {
  const cells: Cell[] = [];
  if (params.benchmarks.includes('throughput')) {
    for (const protocol of params.protocols) {
      for (const body of params.bodies) {
        const ids = idsFor('closed', params.targets).filter((id) => protocol === 'h1' || id !== 'direct');
        for (const target of rotate(ids, round)) cells.push({ kind: 'closed', target, protocol, body, rate: 0 });
      }
    }
  }
  if (params.benchmarks.includes('latency')) {
    for (const rate of params.rates) {
      for (const target of rotate(idsFor('open', params.targets), round)) cells.push({ kind: 'open', target, protocol: 'h1', body: 'small', rate });
    }
  }
  return cells;
}
