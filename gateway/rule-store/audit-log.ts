/**
 * @module The audit log of the rule lifecycle: one JSON line per change (upload, activation,
 * deletion) with who, what, when and the module hash, appended to `<dataDir>/rules/audit.jsonl`
 * and fsynced before the change is reported as done. Appends are serialized.
 */
import { open, readFile } from 'node:fs/promises';

/** One lifecycle change. */
export interface AuditEntry {
  /** ISO 8601 time of the change. */
  time: string;
  /** Who made it: the API token's name (`api`). */
  who: string;
  action: 'upload' | 'activate' | 'delete';
  /** `name@version`. */
  rule: string;
  /** SHA-256 of the module. */
  hash: string;
  /** Action-specific details (pipeline and slot, previous hash, handover). */
  detail?: Record<string, unknown>;
}

/** Appends and reads the audit log. */
export class AuditLog {
  readonly #path: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  /** The file. */
  get path(): string {
    return this.#path;
  }

  /** Appends `entry` (with `time` set now) and fsyncs. */
  record(entry: Omit<AuditEntry, 'time'>): Promise<void> {
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`;
    const run = async (): Promise<void> => {
      const handle = await open(this.#path, 'a');
      try {
        await handle.appendFile(line);
        await handle.sync();
      } finally {
        await handle.close();
      }
    };
    const done = this.#queue.then(run, run);
    this.#queue = done.catch(() => undefined);
    return done;
  }

  /** The last `limit` entries, oldest first. */
  async entries(limit = 1000): Promise<AuditEntry[]> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const lines = text.split('\n').filter((line) => line !== '');
    return lines.slice(-limit).map((line) => JSON.parse(line) as AuditEntry);
  }
}
