import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import { withDeadline } from '../../temporal/client';
import { TASK_QUEUES, searchAttributes, workflowIds } from '../../temporal/names';
import { ERASURE_STEPS, type EraseUserWorkflow } from '../../workflows/platform/contract';
import { verifyPassword } from '../auth/passwords';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';

/**
 * DELETE /v1/me: the customer, signed in and proving it again with their password,
 * asks to be erased. The erasure is a workflow (`erasure:<customerId>`, one per customer)
 * that runs ERASURE_STEPS; `erasures` keeps what to search for until its last step.
 */

export const EraseMeBody = z.object({ password: z.string().min(1).max(1024).meta({ description: 'Your password, again: erasure cannot be undone.' }) }).strict().meta({ id: 'EraseMeRequest' });

export const ErasureSchema = z
  .object({
    userId: z.uuid(),
    status: z.literal('erasing'),
    workflowId: z.string(),
    steps: z.array(z.enum(ERASURE_STEPS)).meta({ description: 'What is erased, in order: Schedules, tokens, the mailbox secret, invoices, statements, stored objects, ledger ownership and metadata, the user and every row naming them.' }),
  })
  .meta({ id: 'Erasure' });

export async function requestErasure(app: AppContext, userId: string, password: string) {
  const { db, temporal } = app.deps;
  const user: { email: string; phone: string; name: string; password_hash: string } | undefined = await db('users').where({ id: userId }).first('email', 'phone', 'name', 'password_hash');
  if (!user) throw problems.unauthenticated('The access token is invalid or expired.');
  if (!(await verifyPassword(user.password_hash, password))) {
    throw problems.validation([{ field: 'password', in: 'body', code: 'wrong_password', message: 'The password is wrong.' }], 'The password is wrong.');
  }
  await db('erasures').insert({ user_id: userId, email: user.email, phone: user.phone, name: user.name }).onConflict('user_id').ignore();
  const workflowId = workflowIds.erasure(userId);
  try {
    await withDeadline(temporal, app.config.dependencyTimeoutMs, () =>
      temporal.workflow.start<EraseUserWorkflow>('eraseUser', {
        taskQueue: TASK_QUEUES.core,
        workflowId,
        args: [{ userId }],
        typedSearchAttributes: [{ key: searchAttributes.CustomerId, value: userId }],
      }),
    );
  } catch (err) {
    // A second request while the first erasure runs joins it.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { userId, status: 'erasing' as const, workflowId, steps: [...ERASURE_STEPS] };
}
