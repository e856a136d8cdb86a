import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import { withDeadline } from '../../../temporal/client';
import { TASK_QUEUES, workflowIds } from '../../../temporal/names';
import type { ReparseInvoicesWorkflow } from '../../../workflows/invoices/contract';
import type { AppContext } from '../../core/context';
import { route, type RouteSpec } from '../../core/route';

const ReparseSchema = z
  .object({
    workflowId: z.string().meta({ description: 'Follow it in the Temporal Web UI.' }),
    status: z.enum(['started', 'already_running']),
    unparsed: z.number().int().meta({ description: 'Unparsed invoices it reads again.' }),
  })
  .meta({ id: 'InvoiceReparse' });

/** Operator tools of the invoices line (service token or an operator). */
export function internalInvoiceRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/internal/v1/invoices/reparse',
      summary: 'Read every unparsed invoice again with the templates as they are now (after adding a template file); those that parse get their notices.',
      tags: ['internal'],
      access: 'internal',
      responses: { 202: { description: 'Re-parsing; one runs at a time.', schema: ReparseSchema } },
      handler: async (ctx) => {
        const { temporal, db } = app.deps;
        const workflowId = workflowIds.invoiceReparse();
        const counted = (await db('invoices').where({ status: 'unparsed' }).count({ n: '*' }).first()) as { n: string | number } | undefined;
        let status: 'started' | 'already_running' = 'started';
        try {
          await withDeadline(temporal, app.config.dependencyTimeoutMs, () =>
            temporal.workflow.start<ReparseInvoicesWorkflow>('reparseInvoices', { taskQueue: TASK_QUEUES.core, workflowId, args: [{}] }),
          );
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          status = 'already_running';
        }
        ctx.status = 202;
        ctx.body = { workflowId, status, unparsed: Number(counted?.n ?? 0) };
      },
    }),
  ];
}
