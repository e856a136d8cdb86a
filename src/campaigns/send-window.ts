import { DateTime, IANAZone } from 'luxon';

/**
 * When a contact may be messaged, in the contact's own timezone: never inside the
 * campaign's quiet hours (`21:00`–`08:00` wraps midnight) and, when a send window is
 * given, only on its weekdays (1 = Monday … 7 = Sunday) between its hours. luxon does
 * the zone arithmetic, so daylight-saving days have their real length.
 */

export interface QuietHours {
  /** `HH:mm`, local time. */
  start: string;
  end: string;
}

export interface SendWindow {
  weekdays: number[];
  start: string;
  end: string;
}

export interface SendRules {
  quietHours?: QuietHours | null;
  sendWindow?: SendWindow | null;
}

// Checking a zone builds an Intl formatter (tens of microseconds); imports check one per row.
const zoneValidity = new Map<string, boolean>();
export function isValidTimezone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (zoneValidity.size < 10_000) zoneValidity.set(zone, valid);
  }
  return valid;
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
};

/** Whether `[start, end)` holds `minute`; an interval whose end is not after its start wraps midnight. */
function within(minute: number, start: number, end: number): boolean {
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

function allowed(local: DateTime, rules: SendRules): boolean {
  const minute = local.hour * 60 + local.minute;
  if (rules.quietHours && within(minute, minutesOf(rules.quietHours.start), minutesOf(rules.quietHours.end))) return false;
  if (rules.sendWindow) {
    const { weekdays, start, end } = rules.sendWindow;
    if (!weekdays.includes(local.weekday) || !within(minute, minutesOf(start), minutesOf(end))) return false;
  }
  return true;
}

const at = (day: DateTime, hhmm: string) => {
  const minutes = minutesOf(hhmm);
  return day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 });
};

/**
 * The first instant at or after `now` when the rules allow a send to a contact in
 * `timezone`: `now` itself when they allow it already. The candidates are `now` and the
 * local times at which a quiet period or a closed window ends over the next eight days;
 * the earliest allowed one wins. Undefined when the rules never allow a send.
 */
export function nextSendableAt(now: Date, timezone: string, rules: SendRules): Date | undefined {
  const local = DateTime.fromJSDate(now, { zone: timezone });
  if (!local.isValid) return undefined;
  if (allowed(local, rules)) return now;
  const candidates: DateTime[] = [];
  for (let day = 0; day <= 8; day++) {
    const date = local.startOf('day').plus({ days: day });
    if (rules.quietHours) candidates.push(at(date, rules.quietHours.end));
    if (rules.sendWindow) candidates.push(at(date, rules.sendWindow.start));
  }
  const next = candidates
    .filter((candidate) => candidate > local && allowed(candidate, rules))
    .sort((a, b) => a.toMillis() - b.toMillis())[0];
  return next?.toJSDate();
}
