import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * What the file ingestions (card files, contact imports) share: rows parsed into COPY
 * text a chunk at a time, copied into a temporary table and merged from there set-based,
 * with the next chunk parsed while the last one merges. docs/cards.md ("Batches that
 * commit their progress") and docs/campaigns.md ("Import") describe the two users.
 */

/**
 * A chunk's rows as COPY text, written into a buffer that is kept and reused rather than
 * built as a string: a chunk's rows stay alive while the chunk before it merges, long
 * enough for the garbage collector to move a string of them into the old generation,
 * where a file's worth of such garbage grew the process by hundreds of megabytes before
 * it was collected.
 */
export class CopyRows {
  private buffer = Buffer.allocUnsafe(1 << 20);
  private length = 0;
  /** Rows added since the last clear. */
  count = 0;

  /** Appends one line of COPY text (ending in a newline; see copyValue). */
  add(line: string): void {
    const needed = this.length + Buffer.byteLength(line);
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.length += this.buffer.write(line, this.length);
    this.count += 1;
  }

  /** The rows written since the last clear; valid until the next clear. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
    this.count = 0;
  }
}

/** Two CopyRows used in turn: one being merged while the reader fills the other. */
export class CopyRowsPair {
  private readonly buffers = [new CopyRows(), new CopyRows()] as const;
  private turn = 0;

  /** The buffer for the next chunk, cleared; the one handed out before stays intact. */
  next(): CopyRows {
    this.turn += 1;
    const rows = this.buffers[this.turn % 2] as CopyRows;
    rows.clear();
    return rows;
  }
}

/** A value in COPY text format: backslash, tab and line breaks escaped; `\N` is NULL. */
export function copyValue(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** COPYs the rows into a table (`copy <table> from stdin`) on the client's open transaction. */
export async function copyInto(client: Client, table: string, rows: CopyRows): Promise<void> {
  await pipeline(Readable.from([rows.bytes()]), client.query(copyFrom(`copy ${table} from stdin`)));
}

/** A record of nothing but a line break (csv-parse reads blank lines so, unless it skips them): a line of the file, not a row. */
export function isBlankLine(raw: string): boolean {
  return /^[\r\n]*$/.test(raw);
}

/**
 * How many lines of the file a record spans, counted from its raw text: csv-parse's own
 * line count takes a CRLF inside a quoted field for two lines.
 */
export function linesOf(raw: string): number {
  const breaks = raw.match(/\r\n|\r|\n/g)?.length ?? 0;
  return /[\r\n]$/.test(raw) ? breaks : breaks + 1;
}

/**
 * Hands each chunk `chunks` yields to `merge`, asking for the next chunk before the merge
 * starts, so the reader parses while the database merges. Stops at the first failure
 * (of either) and closes the reader.
 */
export async function mergeOverlapped<C>(chunks: AsyncGenerator<C>, merge: (chunk: C) => Promise<void>): Promise<void> {
  try {
    let next = chunks.next();
    // A failed read is awaited below; until then it must not count as unhandled.
    next.catch(() => undefined);
    for (let result = await next; !result.done; result = await next) {
      next = chunks.next();
      next.catch(() => undefined);
      await merge(result.value);
    }
  } finally {
    await chunks.return(undefined);
  }
}
