import { createHash, timingSafeEqual } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { findCardWithHistory, type CardEventRow, type CardRow } from '../../cards/repository';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import type { z } from 'zod';
import type { CardStatusSchema } from './schema';

/**
 * A card's delivery status. The customer's route proves the caller knows the holder's
 * phone; a wrong phone and an unknown card answer the same 404, after the same work:
 * the same query runs, and the phone is normalised and compared (in constant time)
 * against the holder's or, for an unknown card, a stand-in.
 */

type CardStatusView = z.infer<typeof CardStatusSchema>;

/** Compared against when there is no card, so both paths parse and compare a phone. */
const STAND_IN_PHONE = '+971500000000';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether `given` (any form) is the holder's E.164 phone; a national form is read in the holder's country. */
function samePhone(holderE164: string, given: string): boolean {
  const country = parsePhoneNumberFromString(holderE164)?.country;
  const parsed = parsePhoneNumberFromString(given.trim(), country);
  return timingSafeEqual(digest(parsed?.number ?? ''), digest(holderE164));
}

export function presentCardStatus(card: CardRow, events: CardEventRow[]): CardStatusView {
  return {
    cardId: card.card_id,
    status: card.status,
    statusAt: card.status_at.toISOString(),
    history: events.map((e) => ({ status: e.status, at: e.event_at.toISOString(), comment: e.comment })),
  };
}

/** The card's status when `phone` is the holder's (or, for the support desk, `phone` is undefined). */
export async function cardStatus(app: AppContext, cardId: string, phone: string | undefined): Promise<CardStatusView> {
  const found = await findCardWithHistory(app.deps.db, cardId);
  const matches = phone === undefined ? found !== undefined : samePhone(found?.card.phone_e164 ?? STAND_IN_PHONE, phone);
  if (!found || !matches) throw problems.notFound('No card with this id for this phone.');
  return presentCardStatus(found.card, found.events);
}
