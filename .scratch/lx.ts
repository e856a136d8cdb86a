import { DateTime } from 'luxon';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
for (const [s, f] of [['14-11-2023 12:00PM','dd-MM-yyyy hh:mma'],['12-11-2023 11:59 PM','dd-MM-yyyy hh:mm a'],['13-11-2023 14:00','dd-MM-yyyy HH:mm'],['12-11-2023 11:59 pm','dd-MM-yyyy hh:mm a']]) {
  const d = DateTime.fromFormat(s, f, { zone: 'Asia/Dubai', locale: 'en-US' }); console.log(s, d.isValid, d.toISO(), d.invalidReason);
}
console.log(DateTime.fromISO('2023-11-14T12:00:00+05:30', { setZone: true }).toUTC().toISO());
for (const p of ['501234567', '+971 50 123 4567', '971-50-1234567', '0501234567', '00971501234567', '12345']) { const n = parsePhoneNumberFromString(p, 'AE'); console.log(p, n?.isValid(), n?.number); }
