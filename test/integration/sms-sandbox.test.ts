import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createNotificationActivities } from '../../src/activities/platform/notifications';
import type { Db } from '../../src/db/knex';
import { createNotifier, type Notifier, type OutboundMessage } from '../../src/providers/notifier';
import type { NotificationRow } from '../../src/providers/outbox';
import type { SmsMessage, SmsProvider } from '../../src/providers/sms/port';
import { SmsSendError } from '../../src/providers/sms/port';
import { createSandboxSms, SANDBOX_UNDELIVERED_REASON, sandboxMessageId } from '../../src/providers/sms/sandbox';
import { testDb } from '../helpers/services';

/**
 * The sandbox SMS provider behind the outbox notifier, on real PostgreSQL: scripted
 * outcomes by the recipient's last four digits, receipts written to the outbox row,
 * one provider call per dedupe key, failures recorded with their reason.
 */

/** Wraps a provider and records every call that reaches it. */
function counting(inner: SmsProvider, delayMs = 0): { sms: SmsProvider; calls: SmsMessage[] } {
  const calls: SmsMessage[] = [];
  return {
    calls,
    sms: {
      name: inner.name,
      async send(message) {
        calls.push(message);
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        return inner.send(message);
      },
    },
  };
}

const sms = (recipient: string, body = 'finflow: 10.50 GBP received'): OutboundMessage => ({
  dedupeKey: `sms-test:${randomUUID()}:alert`,
  userId: null,
  channel: 'sms',
  recipient,
  template: 'alert',
  body,
});

describe('sandbox SMS through the outbox notifier', () => {
  let db: Db;
  let provider: ReturnType<typeof counting>;
  let notifier: Notifier;

  const row = async (dedupeKey: string) => (await db('notifications').where({ dedupe_key: dedupeKey }).first()) as NotificationRow;

  before(async function () {
    this.timeout(120_000);
    db = await testDb();
  });

  beforeEach(() => {
    provider = counting(createSandboxSms({ db }));
    notifier = createNotifier({ db, sms: provider.sms });
  });

  describe('scripted outcomes', () => {
    it('delivers an ordinary number and records the receipt in the outbox', async () => {
      const message = sms('+14155550123');
      const sent = await notifier.send(message);
      const stored = await row(message.dedupeKey);
      assert.deepEqual(sent, { id: stored.id, status: 'delivered', fresh: true });
      assert.equal(stored.status, 'delivered');
      assert.equal(stored.provider, 'sandbox');
      assert.equal(stored.provider_message_id, sandboxMessageId(message.dedupeKey));
      assert.equal(stored.attempts, 1);
      assert.equal(stored.error_reason, null);
      assert.ok(stored.delivered_at instanceof Date);
      assert.equal(stored.sending_until, null);
    });

    it('hands the provider the recipient, the body and the dedupe key as reference', async () => {
      const message = sms('+14155550123', 'finflow: your balance is 42.00 GBP');
      await notifier.send(message);
      assert.deepEqual(provider.calls, [{ to: '+14155550123', body: 'finflow: your balance is 42.00 GBP', reference: message.dedupeKey }]);
    });

    it('…0003 is accepted, then its receipt says undelivered', async () => {
      const message = sms('+14155550003');
      const sent = await notifier.send(message);
      const stored = await row(message.dedupeKey);
      assert.deepEqual([sent.status, sent.fresh], ['undelivered', true]);
      assert.equal(stored.status, 'undelivered');
      assert.equal(stored.error_reason, SANDBOX_UNDELIVERED_REASON);
      assert.equal(stored.delivered_at, null);
      assert.equal(stored.provider_message_id, sandboxMessageId(message.dedupeKey));
    });

    it('…0001 is rejected for good: a non-retryable sms_rejected failure', async () => {
      await assert.rejects(notifier.send(sms('+14155550001')), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'sms_rejected');
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /invalid_number/);
        return true;
      });
    });

    it('…0001 leaves the row failed with its reason and one attempt', async () => {
      const message = sms('+14155550001');
      await assert.rejects(notifier.send(message), ApplicationFailure);
      const stored = await row(message.dedupeKey);
      assert.equal(stored.status, 'failed');
      assert.match(stored.error_reason ?? '', /^invalid_number: /);
      assert.equal(stored.attempts, 1);
      assert.equal(stored.provider_message_id, null);
    });

    it('…0004 is blocked, not retryable', async () => {
      const message = sms('+14155550004');
      await assert.rejects(notifier.send(message), (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable);
      assert.match((await row(message.dedupeKey)).error_reason ?? '', /^blocked: /);
    });

    it('…0002 fails with a plain (retryable) error on the first attempt', async () => {
      await assert.rejects(notifier.send(sms('+14155550002')), (err: unknown) => {
        assert.ok(!(err instanceof ApplicationFailure), 'a retryable failure must not be an ApplicationFailure');
        assert.match((err as Error).message, /provider_error/);
        return true;
      });
    });

    it('…0002 records the failed attempt and its reason, and keeps the message queued', async () => {
      const message = sms('+14155550002');
      await assert.rejects(notifier.send(message));
      const stored = await row(message.dedupeKey);
      assert.equal(stored.status, 'queued');
      assert.equal(stored.attempts, 1);
      assert.match(stored.error_reason ?? '', /^provider_error: sandbox: simulated outage/);
      assert.equal(stored.sending_until, null);
    });

    it('…0002 is delivered on the retry, after two attempts', async () => {
      const message = sms('+14155550002');
      await assert.rejects(notifier.send(message));
      const sent = await notifier.send(message);
      const stored = await row(message.dedupeKey);
      assert.deepEqual([sent.status, sent.fresh], ['delivered', true]);
      assert.equal(stored.attempts, 2);
      assert.equal(stored.error_reason, null);
      assert.equal(provider.calls.length, 2);
    });

    it('the sandbox alone (no outbox row) still answers with its scripted outcome', async () => {
      const sandbox = createSandboxSms({ db });
      const reference = `no-row:${randomUUID()}`;
      assert.deepEqual(await sandbox.send({ to: '+14155550123', body: 'x', reference }), { providerMessageId: sandboxMessageId(reference) });
      await assert.rejects(sandbox.send({ to: '+14155550001', body: 'x', reference }), (err: unknown) => err instanceof SmsSendError && !err.retryable);
    });
  });

  describe('one provider call per dedupe key', () => {
    it('a second send of a sent key does not call the provider again', async () => {
      const message = sms('+14155550123');
      const first = await notifier.send(message);
      const second = await notifier.send(message);
      assert.equal(provider.calls.length, 1);
      assert.deepEqual(second, { id: first.id, status: 'delivered', fresh: false });
    });

    it('a second send of a rejected key neither calls the provider nor throws', async () => {
      const message = sms('+14155550001');
      await assert.rejects(notifier.send(message));
      const again = await notifier.send(message);
      assert.equal(provider.calls.length, 1);
      assert.deepEqual([again.status, again.fresh], ['failed', false]);
    });

    it('a retry sends what the outbox recorded, not a re-rendered body', async () => {
      const message = sms('+14155550002', 'finflow: balance 10.00 GBP');
      await assert.rejects(notifier.send(message));
      await notifier.send({ ...message, body: 'finflow: balance 99.00 GBP' });
      assert.deepEqual(
        provider.calls.map((c) => c.body),
        ['finflow: balance 10.00 GBP', 'finflow: balance 10.00 GBP'],
      );
      assert.equal((await row(message.dedupeKey)).body, 'finflow: balance 10.00 GBP');
    });

    it('two overlapping sends of one key make one provider call', async () => {
      const slow = counting(createSandboxSms({ db }), 150);
      const overlapping = createNotifier({ db, sms: slow.sms });
      const message = sms('+14155550123');
      const results = await Promise.allSettled([overlapping.send(message), overlapping.send(message)]);
      assert.equal(slow.calls.length, 1);
      const fresh = results.filter((r) => r.status === 'fulfilled' && r.value.fresh);
      assert.equal(fresh.length, 1);
      // The loser either saw the finished send or was told to retry while it was in flight.
      for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /being sent by another attempt/);
      assert.equal((await row(message.dedupeKey)).status, 'delivered');
    });

    it('an expired sending lease (a worker that died mid-call) lets a retry send', async () => {
      const message = sms('+14155550123');
      // Claim the key and take a lease that has already run out, as a crashed attempt would leave it.
      await db('notifications').insert({
        id: randomUUID(),
        dedupe_key: message.dedupeKey,
        channel: 'sms',
        recipient: message.recipient,
        template: message.template,
        body: message.body,
        status: 'queued',
        attempts: 1,
        sending_until: db.raw(`now() - interval '1 second'`),
      });
      const sent = await notifier.send(message);
      assert.deepEqual([sent.status, sent.fresh], ['delivered', true]);
      assert.equal((await row(message.dedupeKey)).attempts, 2);
    });

    it('asks the provider before sending again a message an earlier attempt handed over (its answer lost)', async () => {
      const message = sms('+14155550123');
      const inner = createSandboxSms({ db });
      const asking = counting(inner);
      // The provider took the message; the attempt that handed it over died before recording it.
      await inner.send({ to: message.recipient, body: message.body, reference: message.dedupeKey });
      await db('notifications').insert({ id: randomUUID(), dedupe_key: message.dedupeKey, channel: 'sms', recipient: message.recipient, template: message.template, body: message.body, status: 'queued', attempts: 1, sending_until: db.raw(`now() - interval '1 second'`) });
      await createNotifier({ db, sms: { ...asking.sms, lookup: (reference) => inner.lookup?.(reference) ?? Promise.resolve(undefined) } }).send(message);
      const sent = (await db('sandbox_sms_messages').where({ reference: message.dedupeKey }).first()) as { sends: number };
      assert.deepEqual([asking.calls.length, sent.sends, (await row(message.dedupeKey)).provider_message_id], [0, 1, sandboxMessageId(message.dedupeKey)]);
    });

    it('email is recorded without a provider call', async () => {
      const message: OutboundMessage = { ...sms('unused'), channel: 'email', recipient: 'ada@example.com' };
      const sent = await notifier.send(message);
      const stored = await row(message.dedupeKey);
      assert.deepEqual([sent.status, sent.fresh, provider.calls.length], ['sent', true, 0]);
      assert.deepEqual([stored.provider, stored.attempts], [null, 0]);
    });
  });

  describe('recordNotificationFailure activity', () => {
    const activities = () => createNotificationActivities({ notifier });

    it('marks a message whose retries ran out as failed, with the reason', async () => {
      const message = sms('+14155550002');
      await assert.rejects(notifier.send(message));
      const result = await activities().recordNotificationFailure({ dedupeKey: message.dedupeKey, reason: 'retries exhausted: provider_error' });
      const stored = await row(message.dedupeKey);
      assert.deepEqual(result, { notificationId: stored.id, status: 'failed' });
      assert.equal(stored.status, 'failed');
      assert.equal(stored.error_reason, 'retries exhausted: provider_error');
      assert.equal(stored.attempts, 1);
    });

    it('leaves a delivered message as it is', async () => {
      const message = sms('+14155550123');
      await notifier.send(message);
      const result = await activities().recordNotificationFailure({ dedupeKey: message.dedupeKey, reason: 'late' });
      assert.equal(result.status, 'delivered');
      assert.equal((await row(message.dedupeKey)).error_reason, null);
    });

    it('is idempotent', async () => {
      const message = sms('+14155550002');
      await assert.rejects(notifier.send(message));
      const first = await activities().recordNotificationFailure({ dedupeKey: message.dedupeKey, reason: 'gave up' });
      const second = await activities().recordNotificationFailure({ dedupeKey: message.dedupeKey, reason: 'gave up again' });
      assert.deepEqual(second, first);
      assert.equal((await row(message.dedupeKey)).error_reason, 'gave up');
    });

    it('answers nulls for a key nothing was claimed under', async () => {
      const result = await activities().recordNotificationFailure({ dedupeKey: `missing:${randomUUID()}`, reason: 'x' });
      assert.deepEqual(result, { notificationId: null, status: null });
    });
  });
});
