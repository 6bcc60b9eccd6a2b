// kafkajs's request framing (protocol/request.js), with one copy of the body.
// The original copies the encoded request into a header Encoder and then that
// into a size-prefixed one, growing each by doubling: for a 900 KB produce
// request, two more copies and ~2 MB of buffers. Here the frame is sized
// first and the body copied once.
//
// Request => size int32, api_key int16, api_version int16,
//            correlation_id int32, client_id nullable string, body

import type { EncoderClass, EncoderShape } from './pooled-encoder.ts';

interface FrameEncoder extends EncoderShape {
  writeString(value: string | null): FrameEncoder;
  writeInt16(value: number): FrameEncoder;
  writeInt32(value: number): FrameEncoder;
  writeEncoder(value: EncoderShape): FrameEncoder;
}

export interface FrameArgs {
  correlationId: number;
  clientId: string | null;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<EncoderShape> };
}

/** Stand-in for kafkajs's protocol/request.js: the same bytes, sized up front. */
export function sizedRequestFrame(Encoder: EncoderClass): (args: FrameArgs) => Promise<EncoderShape> {
  return async ({ correlationId, clientId, request: { apiKey, apiVersion, encode } }) => {
    const body = await encode();
    const clientIdBytes = clientId == null ? 0 : Buffer.byteLength(clientId, 'utf8');
    // Anything but an Encoder fails in writeEncoder below, with kafkajs's own error.
    const bodyBytes = body != null && Buffer.isBuffer(body.buf) ? body.offset : 0;
    const size = 2 + 2 + 4 + 2 + clientIdBytes + bodyBytes;
    const frame = Object.create(Encoder.prototype) as FrameEncoder;
    frame.buf = Buffer.allocUnsafe(4 + size);
    frame.offset = 0;
    return frame.writeInt32(size).writeInt16(apiKey).writeInt16(apiVersion).writeInt32(correlationId).writeString(clientId).writeEncoder(body);
  };
}
