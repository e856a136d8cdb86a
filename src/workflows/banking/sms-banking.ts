import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, WorkflowIdReusePolicy, executeChild, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { dedupeKeys, searchAttributes, workflowIds } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { failureDetail } from '../shared/failures';
import type { SmsBankingInput, SmsBankingResult } from './contract';
import { statement } from './statement';

/**
 * One inbound SMS, answered (docs/statements.md, "SMS banking"): work out the command
 * (applying STOP / START), then send the one reply, or for `STMT n` make the statement,
 * whose link SMS is the reply. A number that is no customer's verified phone gets nothing.
 */

const { handleInboundSms, recordNotificationFailure } = proxyActivities<Activities>(profiles.database);
const { sendSmsReply } = proxyActivities<Activities>(profiles.provider);

export async function smsBanking({ inboundId }: SmsBankingInput): Promise<SmsBankingResult> {
  const action = await handleInboundSms({ inboundId });
  setBusinessStatus(action.outcome);
  if (action.kind === 'reply') {
    try {
      await sendSmsReply({ inboundId, userId: action.userId, to: action.to, body: action.body });
    } catch (err) {
      if (isCancellation(err)) throw err;
      await recordNotificationFailure({ dedupeKey: dedupeKeys.smsReply(inboundId), reason: failureDetail(err) });
      return { outcome: `${action.outcome}:reply_failed` };
    }
  }
  if (action.kind === 'statement') {
    const { statement: input } = action;
    try {
      await executeChild(statement, {
        workflowId: workflowIds.smsStatement(inboundId),
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: searchAttributes.CustomerId, value: input.userId },
          { key: searchAttributes.AccountId, value: input.accountId },
          { key: searchAttributes.BusinessStatus, value: 'started' },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return { outcome: action.outcome };
}
