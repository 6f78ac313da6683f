// What the chart's monitoring objects query: metric names in PromQL, the Grafana dashboard's
// queries (panels, annotations, variables) and Grafana's variables replaced as with "All"
// selected, so Prometheus or promtool can run them.

export interface DashboardPanel { title: string; type: string; targets?: { expr: string; legendFormat?: string }[] }
export interface Dashboard {
  panels?: DashboardPanel[];
  templating?: { list: { name: string; query?: { query: string } | string; allValue?: string }[] };
  annotations?: { list: { name: string; expr?: string }[] };
}

/** Metric names in a PromQL expression: identifiers followed by a selector, range or `)`, not functions or labels. */
export function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = [...withoutStrings.matchAll(/\b(wsgate_[a-z0-9_]+|nodejs_[a-z0-9_]+|process_[a-z0-9_]+|up)\b(?!\s*\()/g)].map((m) => m[1] as string);
  return names.map((n) => n.replace(/_(bucket|sum|count)$/, ''));
}

/** Grafana's variables replaced as Grafana would with "All" selected, so Prometheus can run the query. */
export function grafanaToPromql(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '5m')
    .replaceAll('$namespace', '.*')
    .replaceAll('$ingress', '.*')
    .replaceAll('$pod', '.+');
}

/** Every query of a dashboard: panels, variables and annotations. */
export function dashboardQueries(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of d.panels ?? []) for (const t of p.targets ?? []) out.push({ where: `panel ${p.title}`, expr: t.expr });
  for (const a of d.annotations?.list ?? []) if (a.expr) out.push({ where: `annotation ${a.name}`, expr: a.expr });
  for (const v of d.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = q ? /^label_values\((.+),\s*[a-z_]+\)$/.exec(q) : null;
    if (m) out.push({ where: `variable ${v.name}`, expr: m[1] as string });
  }
  return out;
}
