/**
 * The workflow clock in milliseconds. Inside workflow code Date.now() is the time of
 * the current workflow task, recorded in history, so a replay sees the same value; the
 * rollout compares it with send-window due times it got from its batches.
 */
// eslint-disable-next-line no-restricted-properties -- the workflow clock (see above), replay-safe.
export const workflowNowMs = (): number => Date.now();
