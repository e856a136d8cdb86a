import { z } from 'zod';
import { AccountSchema, MinorUnits, TransactionSchema } from '../accounts/schema';
import { UserSchema } from '../auth/schema';

/** Shapes of the signed-in customer's own views: the dashboard and notification preferences. */

export const DashboardSchema = z
  .object({
    accounts: z.array(AccountSchema),
    recentActivity: z.array(TransactionSchema),
    cashbackEarned: z.array(z.object({ currency: z.string().length(3), amount: MinorUnits })),
    upcomingRecurringPayments: z.array(
      z.object({ id: z.string(), billerId: z.string(), amount: MinorUnits, currency: z.string(), nextRunAt: z.iso.datetime() }),
    ),
  })
  .meta({ id: 'Dashboard' });

export const PreferencesSchema = z.object({ smsAlerts: z.boolean() }).meta({ id: 'Preferences' });

/** GET /v1/me: the user, and whether a mailbox is connected for invoices (docs/invoices.md). */
export const MeSchema = UserSchema.extend({
  mailboxConnected: z.boolean().meta({ description: 'A mailbox is connected (PUT /v1/me/mailbox); invoices are fetched from it.' }),
}).meta({ id: 'Me' });
