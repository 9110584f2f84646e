// Number formats shared by the tables.

export const ms = (v: number): string =>
  (Number.isNaN(v) ? '-' : Math.abs(v) < 1 ? v.toFixed(3) : Math.abs(v) < 10 ? v.toFixed(2) : Math.abs(v) < 1000 ? v.toFixed(1) : v.toFixed(0));
export const signed = (v: number): string => (Number.isNaN(v) ? '-' : `${v >= 0 ? '+' : '−'}${ms(Math.abs(v))}`);
export const pct = (v: number): string => (Number.isNaN(v) ? '-' : `${v.toFixed(1)}%`);
export const int = (v: number): string => (Number.isNaN(v) ? '-' : Math.round(v).toLocaleString('en-US'));
export const kilo = (v: number): string => (Number.isNaN(v) ? '-' : `${(v / 1000).toFixed(1)}k`);
export const fixed = (v: number, digits: number): string => (Number.isNaN(v) ? '-' : v.toFixed(digits));

export function table(header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
