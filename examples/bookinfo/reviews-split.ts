// The VirtualService that splits reviews traffic between v1 and v2 by weight.
export function reviewsSplit(v1: number, v2: number, v3 = 0): string {
  const route = [['v1', v1], ['v2', v2], ['v3', v3]]
    .filter(([, w], i) => i < 2 || (w as number) > 0)
    .map(([subset, weight]) => `    - destination: { host: reviews, subset: ${subset} }\n      weight: ${weight}`)
    .join('\n');
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
${route}
`;
}
