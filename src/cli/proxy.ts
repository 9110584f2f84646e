// `weft proxy`
export { usage } from '../proxy/main.ts';
export { runProxy as run } from '../proxy/main.ts';
