import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * What the campaigns line's workflows take, answer and accept (docs/campaigns.md): the
 * only workflow module the API and the activities import.
 */

export interface CampaignRolloutInput {
  campaignId: string;
  /** ISO time to start at; absent or past, at once. */
  scheduleAt?: string;
  /** Carried across continue-as-new; absent on the first run. */
  progress?: RolloutProgress;
}

/** How far a rollout has come: all it carries from one run to the next. */
export interface RolloutProgress {
  batchCount: number;
  /** Messages per batch, fixed when the campaign is planned. */
  batchSize: number;
  /** The next batch never started yet. */
  nextBatch: number;
  /** Batches to run again: paused mid-way, or waiting for contacts' send windows (`dueAt`, ISO). */
  deferred: Array<{ batch: number; dueAt?: string }>;
  paused: boolean;
}

export interface CampaignRolloutResult {
  status: 'completed' | 'cancelled';
  batchCount: number;
}

/** Batches a rollout runs at once (its sliding window); sending sizes its calls in flight by it. */
export const ROLLOUT_WINDOW = 8;

export type CampaignRolloutWorkflow = (input: CampaignRolloutInput) => Promise<CampaignRolloutResult>;

export interface CampaignBatchInput {
  campaignId: string;
  /** Batch n holds the messages numbered n × batchSize + 1 … (n + 1) × batchSize. */
  batch: number;
  batchSize: number;
}

/**
 * How a batch ended: `done` (every message reached an end state), `waiting` (some wait
 * for their send window until `dueAt`), or interrupted by a pause or a cancel.
 */
export interface CampaignBatchResult {
  outcome: 'done' | 'waiting' | 'paused' | 'cancelled';
  dueAt?: string;
}

/** The control updates; each answers the campaign's status after it. */
export const pauseCampaignUpdate = defineUpdate<CampaignControlResult>('pause');
export const resumeCampaignUpdate = defineUpdate<CampaignControlResult>('resume');
export const cancelCampaignUpdate = defineUpdate<CampaignControlResult>('cancel');

export interface CampaignControlResult {
  status: 'running' | 'paused' | 'cancelled' | 'scheduled';
}

/** The rollout's own view of its progress (the per-status counts are in PostgreSQL). */
export const rolloutProgressQuery = defineQuery<RolloutProgress | undefined>('progress');

export interface ContactImportInput {
  importId: string;
}

export interface ContactImportResult {
  status: 'completed' | 'failed';
  rowsSeen: number;
  rowsImported: number;
  rowsRejected: number;
}

export type ContactImportWorkflow = (input: ContactImportInput) => Promise<ContactImportResult>;
