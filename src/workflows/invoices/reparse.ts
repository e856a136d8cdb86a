import { continueAsNew, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { profiles } from '../shared/activity-profiles';
import type { ReparseInvoicesInput, ReparseInvoicesResult } from './contract';

/**
 * Reads every unparsed invoice again with the templates as they are now (an operator
 * added one), in id order and batches; each invoice that parses now gets its notices.
 * Workflow id `invoice-reparse`: one at a time. Continues as new every few hundred.
 */

const { reparseInvoiceBatch } = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', retry: { maximumAttempts: 5 } });
const { sendInvoiceNotice } = proxyActivities<Activities>(profiles.provider);

const BATCHES_PER_RUN = 20;

export async function reparseInvoices(input: ReparseInvoicesInput = {}): Promise<ReparseInvoicesResult> {
  const reparseId = uuid4();
  let afterId = input.afterId;
  let examined = input.reparsedBefore ?? 0;
  let parsed = 0;
  for (let batch = 0; ; batch++) {
    if (batch === BATCHES_PER_RUN) await continueAsNew<typeof reparseInvoices>({ afterId, reparsedBefore: examined });
    const result = await reparseInvoiceBatch({ afterId, reparseId });
    examined += result.examined;
    parsed += result.parsed.length;
    await Promise.all(result.parsed.map((invoiceId) => sendInvoiceNotice({ invoiceId })));
    if (!result.lastId) break;
    afterId = result.lastId;
  }
  return { examined, parsed };
}
