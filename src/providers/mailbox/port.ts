/**
 * The mailbox port: read a customer's IMAP folder incrementally. An adapter opens a
 * session on one folder, reports its UIDVALIDITY, lists the messages after a UID with
 * their attachments (from the body structure, nothing downloaded) and downloads one
 * attachment on demand. Failures carry a cause the API can name to the customer
 * (wrong credentials, unreachable host, TLS mismatch, missing folder) and the workflow
 * records before Temporal retries.
 */

export interface MailboxSettings {
  host: string;
  port: number;
  /** TLS from the first byte (IMAPS, usually 993); otherwise plain IMAP, upgraded by STARTTLS when offered. */
  tls: boolean;
  username: string;
  password: string;
  folder: string;
}

export type MailboxFailureCause = 'authentication_failed' | 'host_unreachable' | 'tls_mismatch' | 'folder_not_found' | 'timeout' | 'protocol_error';

export class MailboxError extends Error {
  constructor(
    readonly failure: MailboxFailureCause,
    message: string,
  ) {
    super(message);
    this.name = 'MailboxError';
  }
}

export interface MailAttachment {
  /** IMAP body part number, e.g. `2` or `1.3`. */
  part: string;
  filename: string | undefined;
  contentType: string;
  /** Decoded size, estimated from the body structure before any download. */
  sizeBytes: number;
}

export interface MailMessage {
  uid: number;
  from: string | undefined;
  subject: string | undefined;
  attachments: MailAttachment[];
  /** Set when the message's structure could not be read: the message is skipped with this reason. */
  malformed?: string;
}

export interface MailboxSession {
  readonly uidValidity: bigint;
  /** Up to `limit` messages with a UID greater than `afterUid`, in UID order. */
  messagesAfter(afterUid: number, limit: number): Promise<MailMessage[]>;
  download(uid: number, part: string): Promise<Buffer>;
  close(): Promise<void>;
}

export interface MailboxPort {
  /** Logs in and opens the folder, then logs out: the check before a mailbox is saved. */
  verify(settings: MailboxSettings): Promise<void>;
  open(settings: MailboxSettings): Promise<MailboxSession>;
}
