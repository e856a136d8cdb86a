import type { Payload } from '@temporalio/common';
import { createPayloadCodec, PayloadDecryptionError } from '../../temporal/codec';
import type { AppContext } from '../core/context';
import { problems, type FieldError } from '../core/errors';
import { route, type RouteSpec } from '../core/route';
import { CodecBodySchema, type CodecPayloadJson } from './schema';

/**
 * The remote codec endpoint the Temporal Web UI (and `temporal --codec-endpoint`) calls
 * to show payloads in clear: operators only, since a decoded history holds phones,
 * amounts and names. The browser sends its own origin, so /codec has its own CORS
 * policy (the Web UI's origin) in app.ts.
 */

const toPayload = (json: CodecPayloadJson): Payload => ({
  metadata: Object.fromEntries(Object.entries(json.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(json.data ?? '', 'base64')),
});

const toJson = (payload: Payload): CodecPayloadJson => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});

export const CODEC_BASE_PATH = '/codec';
/** The cookie a browser sign-in at /codec/login sets (session.ts); only /codec routes read it. */
export const CODEC_COOKIE = 'finflow_codec';

export function codecRoutes(app: AppContext): RouteSpec[] {
  const codec = createPayloadCodec(app.config.temporal.payloadCodec);
  const responses = { 200: { description: 'The payloads, in the order sent.', schema: CodecBodySchema } };
  return [
    route({
      method: 'post',
      path: `${CODEC_BASE_PATH}/decode`,
      summary: 'Temporal remote codec: decrypts payloads for the Web UI or the CLI. Payloads the codec did not seal come back unchanged.',
      tags: ['operator'],
      access: 'operator',
      cookie: CODEC_COOKIE,
      body: CodecBodySchema,
      responses,
      handler: async (ctx, { body }) => {
        const decoded: CodecPayloadJson[] = [];
        const errors: FieldError[] = [];
        // One at a time, so a payload that does not open is named by its index.
        for (const [index, json] of body.payloads.entries()) {
          try {
            const [payload] = await codec.decode([toPayload(json)]);
            decoded.push(toJson(payload as Payload));
          } catch (err) {
            if (!(err instanceof PayloadDecryptionError)) throw err;
            errors.push({ field: `payloads.${index}`, in: 'body', code: err.reason, message: err.message });
          }
        }
        if (errors.length > 0) throw problems.validation(errors, 'Some payloads cannot be decrypted with the configured keys.');
        ctx.body = { payloads: decoded };
      },
    }),
    route({
      method: 'post',
      path: `${CODEC_BASE_PATH}/encode`,
      summary: 'Temporal remote codec: encrypts payloads with the current key (the Web UI uses it to send a signal or start a workflow).',
      tags: ['operator'],
      access: 'operator',
      cookie: CODEC_COOKIE,
      body: CodecBodySchema,
      responses,
      handler: async (ctx, { body }) => {
        const encoded = await codec.encode(body.payloads.map(toPayload));
        ctx.body = { payloads: encoded.map(toJson) };
      },
    }),
  ];
}
