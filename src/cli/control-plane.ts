// `weft control-plane`
export { usage } from '../control-plane/main.ts';
export { runControlPlane as run } from '../control-plane/main.ts';
