// The hash of consistent-hash load balancing (RING_HASH, MAGLEV) and of route hash policies: XXH64
// (xxHash, 64-bit; Envoy's default hash_function XX_HASH) of a string's UTF-8 bytes, computed on two
// 32-bit halves so that no BigInt is allocated per request. A hash is handed around as its top 53
// bits in a plain number (exact in a double): ring points and request hashes compare as numbers, and
// `hash % n` picks a Maglev slot or a priority without further conversion.

const two32 = 4294967296;
const two21 = 2097152;

// XXH64's primes as [high, low] 32-bit halves.
const P1h = 0x9e3779b1, P1l = 0x85ebca87;
const P2h = 0xc2b2ae3d, P2l = 0x27d4eb4f;
const P3h = 0x165667b1, P3l = 0x9e3779f9;
const P4h = 0x85ebca77, P4l = 0xc2b2ae63;
const P5h = 0x27d4eb2f, P5l = 0x165667c5;
/** -P1 mod 2^64 (the fourth lane's start value for seed 0). */
const minusP1h = 0x61c8864e, minusP1l = 0x7a143579;

/** Results of the 64-bit helpers below (module registers: nothing is allocated per operation). */
let rh = 0;
let rl = 0;

/** The high 32 bits of the 64-bit product of two unsigned 32-bit numbers (16-bit limbs: every step exact in a double). */
function mulHigh(a: number, b: number): number {
  const a1 = a >>> 16, a0 = a & 0xffff, b1 = b >>> 16, b0 = b & 0xffff;
  const mid = a0 * b1 + a1 * b0;
  return a1 * b1 + Math.floor((mid * 65536 + a0 * b0) / two32);
}

/** (ah:al) * (bh:bl) mod 2^64 into rh:rl. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  rh = (mulHigh(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  rl = Math.imul(al, bl) >>> 0;
}

/** (ah:al) + (bh:bl) mod 2^64 into rh:rl. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  rl = lo >>> 0;
  rh = (ah + bh + (lo >= two32 ? 1 : 0)) >>> 0;
}

/** Rotate (h:l) left by r (0 < r < 32) into rh:rl. */
function rotl(h: number, l: number, r: number): void {
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** XXH64's round: rotl(acc + input * P2, 31) * P1, into rh:rl. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2h, P2l);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1h, P1l);
}

/** Reused for the UTF-8 bytes of the string being hashed; grown when a longer one comes. */
let bytes = Buffer.allocUnsafe(256);

function read32(b: Buffer, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/** The last full hash, as its high and low 32-bit halves. */
let outH = 0;
let outL = 0;

/** XXH64 of `text` (UTF-8) with a small seed, as its top 53 bits. */
export function hashString(text: string, seed = 0): number {
  xxh64(text, seed);
  return outH * two21 + (outL >>> 11);
}

/** The full 64-bit XXH64 of `text` as 16 hex digits (generated cookie values; reference vectors in tests). */
export function hashStringHex64(text: string, seed = 0): string {
  xxh64(text, seed);
  return outH.toString(16).padStart(8, '0') + outL.toString(16).padStart(8, '0');
}

function xxh64(text: string, seed: number): void {
  let length = text.length;
  if (length * 3 > bytes.length) {
    length = Buffer.byteLength(text);
    if (length > bytes.length) bytes = Buffer.allocUnsafe(Math.max(length, bytes.length * 2));
  }
  length = bytes.write(text, 0, 'utf8');
  const b = bytes;
  let i = 0;
  let hh: number, hl: number;
  if (length >= 32) {
    add(0, seed, P1h, P1l); add(rh, rl, P2h, P2l);
    let v1h = rh, v1l = rl;
    add(0, seed, P2h, P2l);
    let v2h = rh, v2l = rl;
    let v3h = 0, v3l = seed;
    add(0, seed, minusP1h, minusP1l);
    let v4h = rh, v4l = rl;
    const limit = length - 32;
    do {
      round(v1h, v1l, read32(b, i + 4), read32(b, i)); v1h = rh; v1l = rl;
      round(v2h, v2l, read32(b, i + 12), read32(b, i + 8)); v2h = rh; v2l = rl;
      round(v3h, v3l, read32(b, i + 20), read32(b, i + 16)); v3h = rh; v3l = rl;
      round(v4h, v4l, read32(b, i + 28), read32(b, i + 24)); v4h = rh; v4l = rl;
      i += 32;
    } while (i <= limit);
    rotl(v1h, v1l, 1); hh = rh; hl = rl;
    rotl(v2h, v2l, 7); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v3h, v3l, 12); add(hh, hl, rh, rl); hh = rh; hl = rl;
    rotl(v4h, v4l, 18); add(hh, hl, rh, rl); hh = rh; hl = rl;
    mergeRound(hh, hl, v1h, v1l); hh = rh; hl = rl;
    mergeRound(hh, hl, v2h, v2l); hh = rh; hl = rl;
    mergeRound(hh, hl, v3h, v3l); hh = rh; hl = rl;
    mergeRound(hh, hl, v4h, v4l); hh = rh; hl = rl;
  } else {
    add(0, seed, P5h, P5l); hh = rh; hl = rl;
  }
  add(hh, hl, 0, length); hh = rh; hl = rl;
  while (i + 8 <= length) {
    round(0, 0, read32(b, i + 4), read32(b, i));
    hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 27); mul(rh, rl, P1h, P1l); add(rh, rl, P4h, P4l); hh = rh; hl = rl;
    i += 8;
  }
  if (i + 4 <= length) {
    mul(0, read32(b, i), P1h, P1l);
    hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 23); mul(rh, rl, P2h, P2l); add(rh, rl, P3h, P3l); hh = rh; hl = rl;
    i += 4;
  }
  while (i < length) {
    mul(0, b[i], P5h, P5l);
    hh = (hh ^ rh) >>> 0; hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 11); mul(rh, rl, P1h, P1l); hh = rh; hl = rl;
    i++;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2h, P2l); hh = rh; hl = rl;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3h, P3l); hh = rh; hl = rl;
  outL = (hl ^ hh) >>> 0;
  outH = hh;
}

/** XXH64's merge of a lane into the accumulator: (acc ^ round(0, lane)) * P1 + P4, into rh:rl. */
function mergeRound(acch: number, accl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((acch ^ rh) >>> 0, (accl ^ rl) >>> 0, P1h, P1l);
  add(rh, rl, P4h, P4l);
}

/**
 * Envoy's combination of several hash policies' hashes: the previous value rotated left by one bit,
 * then XORed with the new one (so that duplicate policies do not cancel out), here on 53 bits.
 */
export function combineHashes(previous: number, next: number): number {
  const rotated = previous >= 2 ** 52 ? (previous - 2 ** 52) * 2 + 1 : previous * 2;
  const ph = Math.floor(rotated / two32), pl = rotated >>> 0;
  const nh = Math.floor(next / two32), nl = next >>> 0;
  return ((ph ^ nh) >>> 0) * two32 + ((pl ^ nl) >>> 0);
}
