import { ImapFlow, type FetchMessageObject, type MessageStructureObject } from 'imapflow';
import { MailboxError, type MailAttachment, type MailboxPort, type MailboxSession, type MailboxSettings, type MailMessage } from './port';

/**
 * The mailbox port on imapflow (pinned). One session is one IMAP connection with the
 * folder opened read-only (EXAMINE), so ingestion never changes a flag in the
 * customer's mailbox. A fetch is collected in full before any download: imapflow
 * serialises commands, and a download issued inside a running fetch would wait forever.
 */

interface ImapError {
  authenticationFailed?: boolean;
  code?: string;
  message?: string;
  responseText?: string;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET']);

/** What went wrong, in words a customer can act on; never the stack. */
export function mailboxFailureOf(err: unknown, settings: Pick<MailboxSettings, 'host' | 'port' | 'tls' | 'folder'>): MailboxError {
  if (err instanceof MailboxError) return err;
  const e = (err ?? {}) as ImapError;
  const where = `${settings.host}:${settings.port}`;
  if (e.authenticationFailed) return new MailboxError('authentication_failed', `The mail server at ${where} refused the username or password.`);
  if (e.code && UNREACHABLE.has(e.code)) return new MailboxError('host_unreachable', `The mail server at ${where} cannot be reached (${e.code}).`);
  if ((e.code ?? '').startsWith('ERR_SSL') || /SSL|TLS|certificate/i.test(e.message ?? '')) {
    return new MailboxError('tls_mismatch', `TLS to ${where} failed: the server ${settings.tls ? 'does not speak TLS on this port (try tls: false)' : 'expects TLS on this port (try tls: true)'}.`);
  }
  if (/timeout/i.test(`${e.code ?? ''} ${e.message ?? ''}`)) {
    return new MailboxError('timeout', `The mail server at ${where} did not answer in time${settings.tls ? '' : ' (does it expect TLS on this port? try tls: true)'}.`);
  }
  return new MailboxError('protocol_error', `The mail server at ${where} answered unexpectedly: ${e.responseText ?? e.message ?? 'unknown error'}.`);
}

/** Decoded size of a body part: base64 carries 3 bytes in 4 characters. */
const decodedSize = (node: MessageStructureObject) => Math.floor(((node.size ?? 0) * (node.encoding?.toLowerCase() === 'base64' ? 3 : 4)) / 4);

/** Every leaf part that is an attachment: named, marked as one, or a PDF however it is marked. */
export function attachmentsOf(structure: MessageStructureObject | undefined): MailAttachment[] {
  if (!structure) return [];
  const found: MailAttachment[] = [];
  const pending: Array<{ node: MessageStructureObject; part: string }> = [{ node: structure, part: structure.part ?? '1' }];
  while (pending.length > 0) {
    const { node, part } = pending.shift() as { node: MessageStructureObject; part: string };
    if (node.childNodes && node.childNodes.length > 0) {
      node.childNodes.forEach((child, i) => pending.push({ node: child, part: child.part ?? `${node.part ? `${node.part}.` : ''}${i + 1}` }));
      continue;
    }
    const filename = node.dispositionParameters?.filename ?? node.parameters?.name;
    const type = (node.type ?? 'application/octet-stream').toLowerCase();
    if (node.disposition?.toLowerCase() === 'attachment' || filename !== undefined || type === 'application/pdf') {
      found.push({ part, filename, contentType: type, sizeBytes: decodedSize(node) });
    }
  }
  return found;
}

function messageOf(fetched: FetchMessageObject): MailMessage {
  const structure = fetched.bodyStructure;
  const from = fetched.envelope?.from?.[0]?.address;
  const base = { uid: fetched.uid, from, subject: fetched.envelope?.subject };
  if (!structure) return { ...base, attachments: [], malformed: 'malformed MIME: the server returned no body structure' };
  if (structure.type?.toLowerCase().startsWith('multipart/') && !(structure.childNodes && structure.childNodes.length > 0)) {
    return { ...base, attachments: [], malformed: 'malformed MIME: a multipart message without parts' };
  }
  const broken = leavesOf(structure).find((leaf) => !MIME_TYPE.test(leaf.type ?? ''));
  if (broken) return { ...base, attachments: [], malformed: `malformed MIME: a part without a valid content type (${JSON.stringify(broken.type ?? '')})` };
  return { ...base, attachments: attachmentsOf(structure) };
}

const MIME_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i;

function leavesOf(node: MessageStructureObject): MessageStructureObject[] {
  return node.childNodes && node.childNodes.length > 0 ? node.childNodes.flatMap(leavesOf) : [node];
}

export function createImapMailboxPort({ timeoutMs }: { timeoutMs: number }): MailboxPort {
  const client = (settings: MailboxSettings) =>
    new ImapFlow({
      host: settings.host,
      port: settings.port,
      secure: settings.tls,
      auth: { user: settings.username, pass: settings.password },
      logger: false,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs * 4,
      disableAutoIdle: true,
    });

  async function open(settings: MailboxSettings): Promise<MailboxSession> {
    const imap = client(settings);
    // An unhandled 'error' event would crash the process; failures surface through the awaited calls.
    imap.on('error', () => undefined);
    let uidValidity: bigint;
    try {
      await imap.connect();
    } catch (err) {
      imap.close();
      throw mailboxFailureOf(err, settings);
    }
    try {
      uidValidity = BigInt((await imap.mailboxOpen(settings.folder, { readOnly: true })).uidValidity);
    } catch (err) {
      imap.close();
      // Logged in, and the server refused to select the folder (NO, or BAD from some servers): it is not there.
      throw ['NO', 'BAD'].includes((err as { responseStatus?: string }).responseStatus ?? '') ? new MailboxError('folder_not_found', `The folder "${settings.folder}" does not exist in this mailbox.`) : mailboxFailureOf(err, settings);
    }
    return {
      uidValidity,
      async messagesAfter(afterUid, limit) {
        const uids = ((await imap.search({ uid: `${afterUid + 1}:*` }, { uid: true })) || []).filter((uid) => uid > afterUid).sort((a, b) => a - b).slice(0, limit);
        if (uids.length === 0) return [];
        const fetched: FetchMessageObject[] = [];
        for await (const message of imap.fetch(uids.join(','), { uid: true, envelope: true, bodyStructure: true }, { uid: true })) fetched.push(message);
        return fetched.map(messageOf).sort((a, b) => a.uid - b.uid);
      },
      async download(uid, part) {
        const { content } = await imap.download(String(uid), part, { uid: true });
        if (!content) throw new MailboxError('protocol_error', `message ${uid} has no part ${part}`);
        const chunks: Buffer[] = [];
        for await (const chunk of content) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      },
      async close() {
        await imap.logout().catch(() => imap.close());
      },
    };
  }

  return {
    open,
    async verify(settings) {
      await (await open(settings)).close();
    },
  };
}
