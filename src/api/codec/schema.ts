import { z } from 'zod';

/**
 * Temporal's remote codec protocol: `{payloads: [{metadata: {key: base64}, data: base64}]}`
 * in and out, the JSON form of Temporal's Payload message. Payload objects are not
 * strict: a newer Temporal Web UI may send fields this version does not know.
 */

const Base64 = z
  .string()
  .max(4 * 1024 * 1024)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

export const CodecPayloadSchema = z
  .object({
    metadata: z.record(z.string().min(1).max(256), Base64).optional(),
    data: Base64.optional(),
  })
  .meta({ id: 'CodecPayload' });

export const CodecBodySchema = z.strictObject({ payloads: z.array(CodecPayloadSchema).max(1000) }).meta({ id: 'CodecPayloads' });

export type CodecPayloadJson = z.infer<typeof CodecPayloadSchema>;
