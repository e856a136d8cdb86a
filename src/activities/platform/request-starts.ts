import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../../db/knex';
import { REQUEST_TABLES, startRequest, type RequestStart } from '../../temporal/request-starts';
import { heartbeat } from '../shared/heartbeat';

/** How many overdue starts one run looks at; the next run takes the rest. */
const BATCH = 500;

interface StoredStart {
  workflow_id: string;
  workflow_type: RequestStart['workflowType'];
  input: Record<string, unknown>;
  ids: RequestStart['ids'];
  with_outcome: boolean;
}

export interface AbandonedRequests {
  /** Starts forgotten because their request ended (or was withdrawn). */
  forgotten: number;
  /** Workflows started now: their request had none. */
  started: number;
  /** Requests still processing whose workflow is running: nothing to do. */
  running: number;
  /** Requests still processing whose workflow completed: the row says more than the workflow did (an operator looks). */
  stuck: string[];
}

export function createRequestStartActivities({ db, temporal, now }: { db: Db; temporal?: Client; now: () => Date }) {
  return {
    /**
     * Run by the `finflow-request-starts` Schedule (docs/reliability.md, "Requests whose
     * workflow never started"). Forgets the start of every request that has ended, then
     * looks at each request still processing `olderThanSeconds` after its row was
     * claimed: a workflow that is not there, or that failed, is started from the start
     * the API recorded; a running one is left alone. Idempotent, like every start.
     */
    async startAbandonedRequests({ olderThanSeconds }: { olderThanSeconds: number }): Promise<AbandonedRequests> {
      if (!temporal) throw new Error('starting abandoned requests needs a Temporal client');
      let forgotten = 0;
      for (const table of REQUEST_TABLES) {
        const { rowCount } = await db.raw<{ rowCount: number }>(
          `delete from request_starts s where s.request_table = ?
             and not exists (select 1 from ${table} r where r.id = s.request_id and r.status = 'processing')`,
          [table],
        );
        forgotten += rowCount;
      }
      const cutoff = new Date(now().getTime() - olderThanSeconds * 1000);
      const due = (await db('request_starts').where('created_at', '<', cutoff).orderBy('created_at').limit(BATCH)) as StoredStart[];
      const result: AbandonedRequests = { forgotten, started: 0, running: 0, stuck: [] };
      for (const row of due) {
        heartbeat(row.workflow_id);
        const described = await temporal.workflow
          .getHandle(row.workflow_id)
          .describe()
          .catch((err: unknown) => {
            if (err instanceof WorkflowNotFoundError) return undefined;
            throw err;
          });
        if (described?.status.name === 'RUNNING') {
          result.running += 1;
          continue;
        }
        try {
          await startRequest(temporal, row.workflow_id, { workflowType: row.workflow_type, input: row.input, ids: row.ids, withOutcome: row.with_outcome });
        } catch (err) {
          // A completed run under the id: the reuse policy starts no second one.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          result.stuck.push(row.workflow_id);
          continue;
        }
        await db('request_starts')
          .where({ workflow_id: row.workflow_id })
          .update({ restarts: db.raw('restarts + 1'), restarted_at: now() });
        result.started += 1;
      }
      return result;
    },
  };
}
