import type { Config } from '../../config';
import type { Db } from '../../db/knex';
import { createPlivoSms } from './plivo';
import type { SmsProvider } from './port';
import { createSandboxSms } from './sandbox';
import { createTwilioSms } from './twilio';

export { SmsSendError, type SmsProvider, type SmsMessage, type SmsSendResult, type SmsFailureReason } from './port';

/** The SMS provider SMS_PROVIDER names; loadConfig has already checked each provider's settings. */
export function createSmsProvider(config: Pick<Config, 'sms'>, db: Db): SmsProvider {
  const { provider, plivo, twilio, statusCallbackUrl, sandbox } = config.sms;
  if (provider === 'sandbox') {
    const receipts = sandbox.receipts ? { delayMs: sandbox.receiptDelayMs, failedPercent: sandbox.failedPercent } : undefined;
    return createSandboxSms({ db, latencyMs: sandbox.latencyMs, ...(receipts ? { receipts } : {}) });
  }
  if (provider === 'twilio') {
    if (!twilio.accountSid || !twilio.authToken || !twilio.from) throw new Error('SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM');
    return createTwilioSms({ accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, apiUrl: twilio.apiUrl, statusCallbackUrl: twilio.statusCallbackUrl });
  }
  if (!plivo.authId || !plivo.authToken || !plivo.sourceNumber) {
    throw new Error('SMS_PROVIDER=plivo needs PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN and PLIVO_SOURCE_NUMBER');
  }
  return createPlivoSms({
    authId: plivo.authId,
    authToken: plivo.authToken,
    sourceNumber: plivo.sourceNumber,
    apiUrl: plivo.apiUrl,
    statusCallbackUrl,
  });
}
