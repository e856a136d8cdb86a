import { CancellationScope } from '@temporalio/workflow';
import { failureReason } from './failures';

/**
 * A saga's memory of how to undo what it has done. A workflow adds the undo of each
 * step as soon as the step succeeds; when a later step fails for good, `compensate`
 * runs the undos newest first. Money undos are voids and reversing transfers, so each
 * one is an idempotent activity and may simply be retried.
 */

export interface CompensationOutcome<Step extends string> {
  step: Step;
  status: 'compensated' | 'compensation_failed';
  /** Why the undo failed, when it did. */
  reason?: string;
}

export interface CompensateOptions<Step extends string> {
  /** Called, still inside the non-cancellable scope, when an undo fails for good: record it. */
  onFailure?: (step: Step, reason: string) => Promise<void>;
}

export class Saga<Step extends string = string> {
  private readonly undos: Array<{ step: Step; undo: () => Promise<void> }> = [];

  /** Records the undo of a step that has just succeeded. */
  add(step: Step, undo: () => Promise<void>): void {
    this.undos.push({ step, undo });
  }

  /**
   * Forgets a step's undo because a later step took its effect over: once a hold is
   * posted there is no hold left to void, and undoing the posting undoes both.
   */
  supersede(step: Step): void {
    const index = this.undos.findIndex((u) => u.step === step);
    if (index >= 0) this.undos.splice(index, 1);
  }

  /** Steps whose undo is recorded, oldest first. */
  get steps(): Step[] {
    return this.undos.map((u) => u.step);
  }

  /**
   * Runs every recorded undo, newest first, inside a non-cancellable scope so that a
   * cancellation of the workflow cannot stop a compensation halfway. An undo that fails
   * is reported and the others still run: each failed undo leaves less undone, never
   * more. The saga is empty afterwards, so compensating twice undoes nothing twice.
   */
  async compensate(options: CompensateOptions<Step> = {}): Promise<Array<CompensationOutcome<Step>>> {
    const pending = this.undos.splice(0).reverse();
    return CancellationScope.nonCancellable(async () => {
      const outcomes: Array<CompensationOutcome<Step>> = [];
      for (const { step, undo } of pending) {
        try {
          await undo();
          outcomes.push({ step, status: 'compensated' });
        } catch (err) {
          const reason = failureReason(err);
          outcomes.push({ step, status: 'compensation_failed', reason });
          await options.onFailure?.(step, reason);
        }
      }
      return outcomes;
    });
  }
}
