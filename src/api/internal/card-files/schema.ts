import { z } from 'zod';

/** Request and response shapes of partner card files (`/internal/v1/card-files`). */

export const CardFileUploadQuery = z.object({
  partner: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/)
    .meta({ description: 'The layout the file is in (`courier-pickup`, `courier-exceptions`, `courier-delivered`, `courier-returned`). A file in an unknown layout is recorded `rejected`.', example: 'courier-pickup' }),
});

/** A file is named by the SHA-256 of its bytes. */
export const CardFileIdParams = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) });

const count = z.number().int().min(0);

export const CardFileSchema = z
  .object({
    id: z.string().meta({ description: 'SHA-256 of the file (hex): the same bytes are one file, however often they arrive.' }),
    partner: z.string(),
    source: z.enum(['upload', 'pickup']),
    status: z.enum(['received', 'processing', 'completed', 'rejected']),
    reason: z.string().nullable().meta({ description: 'Why the whole file was rejected.' }),
    sizeBytes: count,
    rows: count,
    accepted: count,
    rejected: count,
    duplicates: count.meta({ description: 'Rows whose event (card, status, time, partner) was already recorded.' }),
    progress: z.object({ bytesRead: count, percent: z.number().min(0).max(100) }),
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    durationMs: count.nullable(),
  })
  .meta({ id: 'CardFile' });
