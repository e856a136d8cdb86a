import { ApplicationFailure } from '@temporalio/common';
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { profiles } from '../shared/activity-profiles';
import type { ContactImportInput, ContactImportResult } from './contract';

/**
 * A contacts CSV import: one heartbeating activity reads the whole file, committing its
 * place after every batch (a retry reads on from there), so the history is a handful of
 * events at any file size. A file that cannot be read as CSV ends the import `failed`
 * with the parser's reason.
 */

const { importContacts } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: ['CsvError'] },
});
const { failContactImport } = proxyActivities<Activities>(profiles.database);

export async function contactImport(input: ContactImportInput): Promise<ContactImportResult> {
  try {
    return await importContacts(input);
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const reason = cause instanceof ApplicationFailure ? cause.message : 'the import failed';
    await failContactImport({ importId: input.importId, reason });
    return { status: 'failed', rowsSeen: 0, rowsImported: 0, rowsRejected: 0 };
  }
}
