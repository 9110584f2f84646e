// A tiny SVG writer: elements as strings, attributes escaped.

export type Attrs = Record<string, string | number>;

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmt = (v: string | number): string => (typeof v === 'number' ? String(Math.round(v * 100) / 100) : escape(v));

export function el(name: string, attrs: Attrs, ...children: string[]): string {
  const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${fmt(v)}"`).join('');
  return children.length ? `<${name}${a}>${children.join('')}</${name}>` : `<${name}${a}/>`;
}

export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el('text', { x, y, ...attrs }, escape(content));
}

export function polyline(points: [number, number][], attrs: Attrs): string {
  return el('polyline', { points: points.map(([x, y]) => `${fmt(x)},${fmt(y)}`).join(' '), fill: 'none', ...attrs });
}

export function svgDocument(width: number, height: number, ...children: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${el('svg', {
    xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`,
    'font-family': 'Helvetica, Arial, sans-serif', 'font-size': 11,
  }, el('rect', { width, height, fill: 'white' }), ...children)}\n`;
}
