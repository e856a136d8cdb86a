import { z } from 'zod';
import type { AppContext } from '../../core/context';
import { problems } from '../../core/errors';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { CardFileIdParams, CardFileSchema, CardFileUploadQuery } from './schema';
import { cardFileOrNotFound, presentCardFile, streamRejects, uploadCardFile } from './service';

/** Partner files of card delivery events (docs/cards.md): upload, progress and rejected rows. Service token or operator. */
export function internalCardFileRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/internal/v1/card-files',
      summary:
        'Upload a partner file of card delivery events as raw CSV, streamed. The same bytes are one file, ingested once; a file that cannot be read (unknown layout, empty, binary, header only) is recorded `rejected` with the reason.',
      tags: ['internal'],
      access: 'internal',
      query: CardFileUploadQuery,
      streamedBody: { mediaType: 'text/csv', description: 'The file as the partner sent it, up to CARD_FILE_MAX_BYTES.' },
      responses: {
        202: { description: 'A new file: its ingestion has started. Poll the `Location`.', schema: CardFileSchema },
        200: { description: 'These bytes were uploaded before: that file, as it stands.', schema: CardFileSchema },
        413: { description: 'The file is larger than CARD_FILE_MAX_BYTES.', schema: ProblemSchema },
        415: { description: 'The body is not sent as text/csv, or is sent with a Content-Encoding.', schema: ProblemSchema },
      },
      handler: async (ctx, { query }) => {
        // The route checked a body's media type and that it is not encoded (core/route.ts); no body at all is no file.
        if (!ctx.is('text/csv', 'text/plain')) throw problems.unsupportedMediaType('text/csv');
        const { file, created } = await uploadCardFile(app, ctx, query.partner);
        ctx.status = created ? 202 : 200;
        ctx.set('Location', `/internal/v1/card-files/${file.id}`);
        ctx.body = presentCardFile(file);
      },
    }),
    route({
      method: 'get',
      path: '/internal/v1/card-files/:id',
      summary: "A partner file's summary: rows, accepted, rejected, duplicates, status, and progress while it runs.",
      tags: ['internal'],
      access: 'internal',
      params: CardFileIdParams,
      responses: {
        200: { description: 'The file.', schema: CardFileSchema },
        404: { description: 'No such file.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        ctx.body = presentCardFile(await cardFileOrNotFound(app, params.id));
      },
    }),
    route({
      method: 'get',
      path: '/internal/v1/card-files/:id/rejects',
      summary: "A partner file's rejected rows as CSV: line number, reason, and the raw row with any card number redacted.",
      tags: ['internal'],
      access: 'internal',
      params: CardFileIdParams,
      responses: {
        200: { description: 'The rejected rows, in line order (a header row only when there are none).', schema: z.string(), mediaType: 'text/csv' },
        404: { description: 'No such file.', schema: ProblemSchema },
      },
      handler: async (ctx, { params }) => {
        await streamRejects(app, ctx, params.id);
      },
    }),
  ];
}
