/**
 * The notifier port: how finflow tells a customer something. The sandbox records each
 * message in PostgreSQL; real providers (Plivo, Twilio, SMTP) implement the same port.
 * `dedupeKey` is `<workflowId>:<step>`, so a retried activity sends at most once.
 */
export interface OutboundMessage {
  dedupeKey: string;
  userId: string | null;
  channel: 'sms' | 'email';
  recipient: string;
  template: string;
  body: string;
}

export interface SentMessage {
  id: string;
  status: 'sent' | 'failed';
  /** False when this dedupe key had been sent before and nothing new went out. */
  fresh: boolean;
}

export interface Notifier {
  send(message: OutboundMessage): Promise<SentMessage>;
}
