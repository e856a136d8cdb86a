import type { AddressInfo } from 'node:net';
import hoodiecrow, { type HoodiecrowFolder } from 'hoodiecrow-imap';
import MailComposer from 'nodemailer/lib/mail-composer';

/**
 * A real IMAP server over TCP (hoodiecrow-imap, in memory) for the tests, the benchmark
 * and `npm start`'s demo mailbox: folders of raw RFC 5322 messages, each with the
 * UIDVALIDITY it is given, so a test can restart it renumbered.
 */

export interface ImapFolderSeed {
  uidValidity?: number;
  messages: string[];
}

export interface LocalImapOptions {
  username: string;
  password: string;
  /** INBOX and any other top-level folders. */
  folders: Record<string, ImapFolderSeed>;
  port?: number;
  /** IMAPS (TLS from the first byte) with hoodiecrow's bundled self-signed certificate. */
  tls?: boolean;
}

export interface LocalImap {
  host: string;
  port: number;
  stop(): Promise<void>;
}

export async function startLocalImap(options: LocalImapOptions): Promise<LocalImap> {
  const folder = (seed: ImapFolderSeed): HoodiecrowFolder => ({ ...(seed.uidValidity ? { uidvalidity: seed.uidValidity } : {}), messages: seed.messages.map((raw) => ({ raw })) });
  const { INBOX, ...others } = options.folders;
  const server = hoodiecrow({
    plugins: ['ID', 'UNSELECT'],
    users: { [options.username]: { password: options.password } },
    ...(options.tls ? { secureConnection: true } : {}),
    storage: {
      INBOX: folder(INBOX ?? { messages: [] }),
      '': { separator: '/', folders: Object.fromEntries(Object.entries(others).map(([name, seed]) => [name, folder(seed)])) },
    },
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { host: '127.0.0.1', port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface MailSeed {
  from?: string;
  subject?: string;
  text?: string;
  attachments?: Array<{ filename: string; content: Buffer | string; contentType?: string }>;
}

/** A raw message as a mail client writes it (nodemailer's composer). */
export async function composeMail(mail: MailSeed): Promise<string> {
  const composer = new MailComposer({ from: mail.from ?? 'billing@issuer.test', to: 'customer@finflow.test', subject: mail.subject ?? 'Your invoice', text: mail.text ?? 'Your invoice is attached.', attachments: mail.attachments ?? [] });
  return (await composer.compile().build()).toString('utf8');
}
