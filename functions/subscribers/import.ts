import type { Clock } from '../commons/clock';
import { errorMessage } from '../commons/errors';
import type { SendRateLimiter } from '../mail/mailer';
import type { ImportRow } from './csv';
import type { SubscriptionService } from './service';
import type { Subscriber, SubscriberStore } from './types';

export type ImportOutcome = 'imported' | 'updated' | 'unchanged' | 'skipped';

export interface ImportReport {
  imported: number;
  /** Pending subscribers made active by `--confirmed`. */
  updated: number;
  /** Already active, or already pending without `--confirmed`. */
  unchanged: number;
  /** Unsubscribed, bounced or complained: an import never brings them back. */
  skipped: { line: number; state: string }[];
  confirmationsSent: number;
  /** Rows whose write or confirmation email failed; safe to import the file again. */
  failed: { line: number; reason: string }[];
}

export interface ImportOptions {
  store: SubscriberStore;
  /**
   * Sends confirmation emails (with the 10-minute rate limit) when not `confirmed`; counts the
   * readers it made active as joining the list today.
   */
  service: SubscriptionService;
  clock: Clock;
  /** The editor vouches for consent: rows become active without a confirmation email. */
  confirmed: boolean;
  /** Writes in flight at once. DynamoDB takes many; dynalite and SES limits take fewer. */
  concurrency?: number;
  /**
   * Takes a slot for each confirmation email. On AWS this is the limiter the senders share
   * (the SES rate is the account's, so an import during a send must take its emails from the
   * same window); unlimited when absent.
   */
  rateLimiter?: SendRateLimiter;
  onProgress?: (done: number) => void;
}

/**
 * Imports validated rows: a batch read per chunk to see who is already there, then
 * bounded-concurrency conditional writes for the rest (not BatchWrite: a batch put would
 * overwrite people who unsubscribed). Re-running the same file is safe and mostly reads: a
 * second run reports the rows as unchanged.
 */
export async function importSubscribers(rows: ImportRow[], options: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, updated: 0, unchanged: 0, skipped: [], confirmationsSent: 0, failed: [] };
  const now = options.clock.now().toISOString();
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 16, 128));
  let done = 0;
  /** Readers made active since the last count (each chunk counts its own on the day's figures). */
  let joined = 0;

  /**
   * `known` is what a batch read saw just before: it only saves writes that would fail anyway
   * (re-importing a list mostly finds everyone already there). Every change is still a
   * conditional write, so a reader who unsubscribed since that read is never re-subscribed.
   */
  async function importRow(row: ImportRow, id: string, known: Subscriber | undefined): Promise<void> {
    let existing = known;
    let mailConfirmation = false;
    if (existing === undefined) {
      const consent = { at: now, source: 'import' };
      const state = options.confirmed ? 'active' : 'pending';
      const { created } = await options.store.createIfAbsent({
        email: row.email,
        state,
        consent,
        createdAt: row.createdAt,
        lang: row.lang,
        name: row.name,
        topics: row.topics,
        frequency: row.frequency,
      });
      if (created) {
        report.imported++;
        if (options.confirmed) joined++;
        mailConfirmation = !options.confirmed;
      } else {
        // Someone signed up between the batch read and this write.
        existing = await options.store.get(id);
        if (existing === undefined) {
          report.failed.push({ line: row.line, reason: 'removed while importing; import the file again' });
          return;
        }
      }
    }
    if (existing !== undefined) {
      // The editor moved the list from elsewhere: its readers are not new to it, so no welcome.
      if (
        existing.state === 'pending' &&
        options.confirmed &&
        (await options.store.activate(id, { owesWelcome: false }))
      ) {
        report.updated++;
        joined++;
      } else if (existing.state === 'active' || existing.state === 'pending') {
        report.unchanged++;
        mailConfirmation = existing.state === 'pending' && !options.confirmed;
      } else {
        report.skipped.push({ line: row.line, state: existing.state });
      }
    }
    if (mailConfirmation) {
      await options.rateLimiter?.acquire();
      try {
        if (await options.service.requestConfirmation(id, row.email, row.lang, { name: row.name }))
          report.confirmationsSent++;
      } catch (error) {
        throw new Error(
          `stored as pending, but the confirmation email failed (${errorMessage(error)}); import the file again to retry`,
        );
      }
    }
  }

  // Chunks of a few batch reads; within a chunk, bounded concurrent conditional writes.
  const chunkSize = Math.max(100, concurrency * 10);
  for (let start = 0; start < rows.length; start += chunkSize) {
    const chunk = rows.slice(start, start + chunkSize);
    // Each address's id (a keyed hash) worked out once, for the batch read and the write.
    const ids = new Map<ImportRow, string>();
    let known: Map<string, Subscriber>;
    try {
      for (const row of chunk) ids.set(row, options.store.idFor(row.email));
      known = await options.store.getMany([...ids.values()]);
    } catch {
      // The rows are still imported correctly without the shortcut, one conditional write each.
      known = new Map();
    }
    let next = 0;
    const worker = async () => {
      while (next < chunk.length) {
        const row = chunk[next++]!;
        try {
          const id = ids.get(row) ?? options.store.idFor(row.email);
          await importRow(row, id, known.get(id));
        } catch (error) {
          report.failed.push({ line: row.line, reason: errorMessage(error) });
        }
        done++;
        options.onProgress?.(done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chunk.length) }, worker));
    await options.service.countImported(joined);
    joined = 0;
  }
  report.skipped.sort((a, b) => a.line - b.line);
  report.failed.sort((a, b) => a.line - b.line);
  return report;
}
