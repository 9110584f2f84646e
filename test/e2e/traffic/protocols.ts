// Wire helpers shared by the scenario backend and the scenario tests: a WebSocket frame encoder and a
// raw-bytes gRPC echo service definition (no .proto needed).

/** One final RFC 6455 frame; clients must mask (`mask`), servers must not. */
export function frame(opcode: number, payload: Buffer, mask?: Buffer): Buffer {
  const length = payload.length;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.alloc(head + (mask ? 4 : 0) + length);
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = length;
  else if (length < 65536) { out[1] = 126; out.writeUInt16BE(length, 2); }
  else { out[1] = 127; out.writeBigUInt64BE(BigInt(length), 2); }
  if (mask) {
    out[1] |= 0x80;
    mask.copy(out, head);
    for (let i = 0; i < length; i++) out[head + 4 + i] = payload[i] ^ mask[i % 4];
  } else payload.copy(out, head);
  return out;
}

const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
export const echoService = {
  Say: { path: '/weft.test.Echo/Say', requestStream: false, responseStream: false, ...raw },
  Chat: { path: '/weft.test.Echo/Chat', requestStream: true, responseStream: true, ...raw },
};
