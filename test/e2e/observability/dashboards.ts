// Istio's Grafana dashboards as test data: every PromQL expression of their panels and of their
// query variables, with Grafana's template variables replaced by values that exist in a running mesh.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Istio's dashboards, unmodified, beside the repository (as the other compatibility tests find them). */
export const dashboardsDir = fileURLToPath(new URL('../../../../shared/compat/istio/dashboards/', import.meta.url));
export const dashboardsMissing = existsSync(dashboardsDir) ? false : `Istio's dashboards not found at ${dashboardsDir}`;

export interface DashboardQuery {
  dashboard: string;
  /** Where in the dashboard: the panel title or the variable name. */
  where: string;
  /** As written in the dashboard. */
  expr: string;
}

/** Every PromQL expression of every dashboard: panel targets and query variables (`query_result(...)` unwrapped). */
export function dashboardQueries(dir = dashboardsDir): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const panels = (list: any[] | undefined): void => {
      for (const panel of list ?? []) {
        for (const target of panel.targets ?? []) {
          if (typeof target.expr === 'string' && target.expr.trim() !== '') out.push({ dashboard: file, where: `panel "${panel.title ?? panel.id}"`, expr: target.expr });
        }
        panels(panel.panels);
      }
    };
    panels(dashboard.panels);
    for (const row of dashboard.rows ?? []) panels(row.panels);
    for (const variable of dashboard.templating?.list ?? []) {
      if (variable.type !== 'query') continue;
      const q = typeof variable.query === 'string' ? variable.query : variable.query?.query;
      if (typeof q !== 'string') continue;
      const inner = /^\s*query_result\(([\s\S]*)\)\s*$/.exec(q);
      if (inner) out.push({ dashboard: file, where: `variable $${variable.name}`, expr: inner[1] });
    }
  }
  return out;
}

/**
 * Grafana's substitution of template variables: a single value as is; a multi-value or "All"
 * selection as a regex alternative (every one of Istio's multi-value variables is used with =~).
 */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]/g, (whole, a, b, c) => {
    const name = a ?? b ?? c;
    const v = values[name];
    if (v === undefined) throw new Error(`no value for the template variable ${whole} in ${expr}`);
    return v;
  });
}
