/**
 * @module The API's bearer token: the configured one, or one generated with WebCrypto on the
 * first start and kept in `<dataDir>/api-token` (mode 0600) so that it survives restarts; and
 * its comparison in constant time (both sides hashed to SHA-256, then `timingSafeEqual`, so
 * neither the content nor the length of the token leaks through timing).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** File name of the generated token inside `dataDir`. */
export const API_TOKEN_FILE = 'api-token';

/** The token the API accepts and where it came from. */
export interface ApiToken {
  readonly token: string;
  /** `config` (api.token), `file` (kept from an earlier start) or `generated` (just now). */
  readonly source: 'config' | 'file' | 'generated';
  /** The token file, when the token is not from the configuration. */
  readonly file: string | undefined;
}

/** The configured token, else the one in `<dataDir>/api-token`, else a new one written there. */
export async function loadApiToken(
  dataDir: string,
  configured: string | undefined,
): Promise<ApiToken> {
  if (configured !== undefined) return { token: configured, source: 'config', file: undefined };
  const file = join(dataDir, API_TOKEN_FILE);
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (text !== '') return { token: text, source: 'file', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = `slc_${Buffer.from(bytes).toString('base64url')}`;
  await mkdir(dataDir, { recursive: true });
  // 'wx': if two gateways share a dataDir and race, one fails instead of both printing tokens.
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, source: 'generated', file };
}

/** Compares presented tokens with one expected token in constant time. */
export class TokenCheck {
  readonly #expected: Buffer;

  constructor(token: string) {
    this.#expected = digest(token);
  }

  /** Whether `presented` is the token. */
  matches(presented: string): boolean {
    return timingSafeEqual(digest(presented), this.#expected);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
