/** hoodiecrow-imap ships no types: the part of its API finflow uses (tests and `npm start`'s demo mailbox). */
declare module 'hoodiecrow-imap' {
  import type { Server } from 'node:net';

  export interface HoodiecrowMessage {
    raw: string;
    uid?: number;
    flags?: string[];
    internaldate?: string;
  }

  export interface HoodiecrowFolder {
    messages?: HoodiecrowMessage[];
    uidvalidity?: number;
    separator?: string;
    folders?: Record<string, HoodiecrowFolder>;
  }

  export interface HoodiecrowOptions {
    plugins?: string[];
    users?: Record<string, { password: string }>;
    storage: Record<string, HoodiecrowFolder>;
    secureConnection?: boolean;
    credentials?: { key: Buffer | string; cert: Buffer | string };
    debug?: boolean;
  }

  export interface HoodiecrowServer {
    server: Server;
    listen(port: number, host: string, callback: () => void): void;
    close(callback?: () => void): void;
  }

  export default function hoodiecrow(options: HoodiecrowOptions): HoodiecrowServer;
}
