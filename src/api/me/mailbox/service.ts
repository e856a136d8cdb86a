import { canonicalTimeZone } from '../../../payments/recurring/period';
import { deleteMailbox, findMailbox, saveMailbox, type MailboxRow } from '../../../invoices/mailboxes';
import { deleteInvoiceSchedule, ensureInvoiceSchedule, INGESTION_LOCAL_TIME } from '../../../invoices/schedule';
import { MailboxError, type MailboxFailureCause } from '../../../providers/mailbox/port';
import type { AppContext, AppInvoicePorts } from '../../core/context';
import { problems, ProblemError } from '../../core/errors';
import type { MailboxBody } from './schema';

/** Connecting, showing and removing the customer's mailbox (docs/invoices.md). */

/** The field a customer fixes for each cause of a failed login test. */
export const FIELD_OF: Record<MailboxFailureCause, string> = {
  authentication_failed: 'password',
  host_unreachable: 'host',
  tls_mismatch: 'tls',
  folder_not_found: 'folder',
  timeout: 'host',
  protocol_error: 'host',
};

export function invoicePortsOf(app: AppContext): AppInvoicePorts {
  if (!app.deps.invoices) throw new ProblemError(503, 'dependency_unavailable', 'Service unavailable', 'Invoices are not configured on this server.');
  return app.deps.invoices;
}

export function presentMailbox(row: MailboxRow) {
  const time = `${String(INGESTION_LOCAL_TIME.hour).padStart(2, '0')}:${String(INGESTION_LOCAL_TIME.minute).padStart(2, '0')}`;
  return {
    host: row.host,
    port: row.port,
    tls: row.tls,
    username: row.username,
    folder: row.folder,
    fromFilter: row.from_filter,
    subjectFilter: row.subject_filter,
    timezone: row.timezone,
    schedule: `weekdays at ${time} ${row.timezone}`,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Logs in before anything is saved: a mailbox that cannot be read is refused with the cause, never stored. */
export async function connectMailbox(app: AppContext, userId: string, body: MailboxBody): Promise<{ row: MailboxRow; created: boolean }> {
  const { mailbox, secrets } = invoicePortsOf(app);
  const timezone = canonicalTimeZone(body.timezone) as string;
  try {
    await mailbox.verify({ host: body.host, port: body.port, tls: body.tls, username: body.username, password: body.password, folder: body.folder });
  } catch (err) {
    if (!(err instanceof MailboxError)) throw err;
    throw problems.mailboxConnectionFailed(FIELD_OF[err.failure], err.failure, err.message);
  }
  const created = !(await findMailbox(app.deps.db, userId));
  const row = await saveMailbox(app.deps.db, userId, { ...body, timezone }, secrets, app.deps.now());
  await ensureInvoiceSchedule(app.deps.temporal, app.config.dependencyTimeoutMs, userId, timezone);
  return { row, created };
}

export async function viewMailbox(app: AppContext, userId: string): Promise<MailboxRow> {
  const row = await findMailbox(app.deps.db, userId);
  if (!row) throw problems.notFound('No mailbox connected.');
  return row;
}

/** Removes the mailbox and its Schedule; invoices already fetched stay. */
export async function disconnectMailbox(app: AppContext, userId: string): Promise<void> {
  await deleteInvoiceSchedule(app.deps.temporal, app.config.dependencyTimeoutMs, userId);
  if (!(await deleteMailbox(app.deps.db, userId))) throw problems.notFound('No mailbox connected.');
}
