import { z } from 'zod';
import { canonicalTimeZone } from '../../../payments/recurring/period';

/** A customer's mailbox as they send it and as they see it (never the password). */

const filter = z.string().min(1).max(200);

export const MailboxBody = z
  .object({
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:.]+\]?$/, 'host must be a hostname or an IP address')
      .meta({ example: 'imap.example.com' }),
    port: z.number().int().min(1).max(65535).meta({ example: 993 }),
    tls: z.boolean().meta({ description: 'TLS from the first byte (IMAPS, usually port 993); false for plain IMAP (port 143), upgraded by STARTTLS when the server offers it.' }),
    username: z.string().min(1).max(320),
    password: z.string().min(1).max(1024).meta({ description: 'Sealed at rest (AES-256-GCM); never shown again.' }),
    folder: z.string().min(1).max(200).default('INBOX'),
    fromFilter: filter.optional().meta({ description: 'Only mails whose sender address contains this (case-insensitive).' }),
    subjectFilter: filter.optional().meta({ description: 'Only mails whose subject contains this (case-insensitive).' }),
    timezone: z
      .string()
      .max(64)
      .default('UTC')
      .refine((name) => canonicalTimeZone(name) !== undefined, { message: 'timezone must be an IANA timezone name, e.g. Europe/Stockholm.' })
      .meta({ example: 'Europe/Stockholm', description: 'New invoices are fetched on weekdays at 08:30 in this timezone.' }),
  })
  .strict()
  .meta({ id: 'MailboxRequest' });

export type MailboxBody = z.infer<typeof MailboxBody>;

export const MailboxSchema = z
  .object({
    host: z.string(),
    port: z.number().int(),
    tls: z.boolean(),
    username: z.string(),
    folder: z.string(),
    fromFilter: z.string().nullable(),
    subjectFilter: z.string().nullable(),
    timezone: z.string(),
    schedule: z.string().meta({ example: 'weekdays at 08:30 Europe/Stockholm' }),
    lastError: z.string().nullable().meta({ description: 'Why the last fetch could not read the mailbox, until one succeeds.' }),
    lastErrorAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Mailbox' });
