import type { Knex } from 'knex';
import type { User } from './schema';

/** A users row as the auth queries select it (see `userColumns`). */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  phone: string;
  /** Selected as text: node-postgres would turn a `date` into a local-midnight Date. */
  date_of_birth: string;
  role: 'customer' | 'operator';
  referral_code: string;
  created_at: Date;
  email_verified_at: Date | null;
  phone_verified_at: Date | null;
  /** The customer's IANA timezone (PATCH /v1/me), null until set. */
  timezone: string | null;
}

/** The columns `presentUser` needs; never the password hash. */
export function userColumns(db: Knex): Array<string | Knex.Raw> {
  return ['id', 'email', 'name', 'phone', db.raw(`to_char(date_of_birth, 'YYYY-MM-DD') as date_of_birth`), 'role', 'referral_code', 'created_at', 'email_verified_at', 'phone_verified_at', 'timezone'];
}

/** Exactly the fields of a user that leave the server. */
export function presentUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    phone: row.phone,
    dateOfBirth: row.date_of_birth,
    role: row.role,
    referralCode: row.referral_code,
    emailVerified: row.email_verified_at !== null,
    phoneVerified: row.phone_verified_at !== null,
    timezone: row.timezone,
    createdAt: row.created_at.toISOString(),
  };
}
