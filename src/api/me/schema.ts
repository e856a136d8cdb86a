import { z } from 'zod';
import { AccountSchema, MinorUnits, TransactionSchema } from '../accounts/schema';

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
