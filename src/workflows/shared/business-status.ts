import { upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributes } from '../../temporal/names';

/**
 * Shows operators what a workflow is doing (the BusinessStatus search attribute). Each
 * call is a command in the history, so workflows set it once per step, not per detail.
 */
export function setBusinessStatus(value: string): void {
  upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value }]);
}
