// The two response bodies the benchmark asks the upstream for, by path.

export type Body = 'small' | '64k';

export const largeBodyPath = '/64k';
export const largeBodyBytes = 64 * 1024;

export function pathFor(body: Body): string {
  return body === '64k' ? largeBodyPath : '/';
}

export function bodyLabel(body: Body): string {
  return body === '64k' ? '64 KiB' : '100 B';
}
