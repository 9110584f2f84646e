// Trace and span ids: random lower-case hex, drawn from a pooled random buffer so that a request pays
// for neither a syscall nor a Buffer of its own (DESIGN.md habit 7).
import { randomFillSync } from 'node:crypto';

const poolSize = 4096;
const pool = Buffer.alloc(poolSize);
let offset = poolSize;

/** `bytes` random bytes as hex (8: a span id or a 64-bit trace id, 16: a 128-bit trace id), never all zeros. */
export function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > poolSize) {
      randomFillSync(pool);
      offset = 0;
    }
    const hex = pool.toString('hex', offset, offset + bytes);
    offset += bytes;
    // An all-zero id is invalid in both W3C and B3; the odds are 2^-64, but the loop costs nothing.
    if (!allZeros(hex)) return hex;
  }
}

export function allZeros(hex: string): boolean {
  for (let i = 0; i < hex.length; i++) if (hex.charCodeAt(i) !== 48) return false;
  return true;
}
