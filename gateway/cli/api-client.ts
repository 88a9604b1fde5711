/**
 * @module The HTTP client of `sluice rules push|list|show|activate|rm`: the gateway URL and
 * token from flags or the environment, requests with the bearer token, and API errors turned
 * into `ApiRequestError` carrying the API's code and message.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiRequestError, UsageError } from './errors.js';
import { stringFlag, type ParsedArgs } from './args.js';

/** Default API URL (the `api` section's defaults). */
export const DEFAULT_API_URL = 'http://127.0.0.1:8686';

/** Where and how to reach the API. */
export interface ApiTarget {
  url: string;
  token: string;
}

/**
 * `--url` / `$SLUICE_API_URL` / the default, and `--token` / `$SLUICE_API_TOKEN` /
 * `--token-file` / `./.sluice/api-token` (the default data directory's token file).
 */
export async function apiTarget(values: ParsedArgs['values']): Promise<ApiTarget> {
  const url = (stringFlag(values, 'url') ?? process.env.SLUICE_API_URL ?? DEFAULT_API_URL).replace(
    /\/+$/,
    '',
  );
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url: "${url}" is not a URL (expected e.g. ${DEFAULT_API_URL})`);
  }
  let token = stringFlag(values, 'token') ?? process.env.SLUICE_API_TOKEN;
  if (token === undefined) {
    const file = stringFlag(values, 'token-file') ?? join('.sluice', 'api-token');
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch {
      throw new UsageError(
        `no API token: pass --token, set SLUICE_API_TOKEN, or --token-file (${file} cannot be read); the gateway printed it on its first start and keeps it in <dataDir>/api-token`,
      );
    }
  }
  return { url, token };
}

/** Sends one request; resolves with the JSON body of a 2xx answer. @throws ApiRequestError */
export async function apiRequest(
  target: ApiTarget,
  method: string,
  path: string,
  body?: { bytes: Uint8Array; headers?: Record<string, string> },
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...body?.headers },
      ...(body === undefined ? {} : { body: body.bytes as Uint8Array<ArrayBuffer> }),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ApiRequestError(
      'UNREACHABLE',
      0,
      `cannot reach the gateway API at ${target.url} (${cause}); is api.enabled true and the gateway running?`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = {};
  }
  if (!response.ok) {
    const error = json['error'] as { code?: string; message?: string; reason?: string } | undefined;
    const code = error?.code ?? `HTTP_${response.status}`;
    const reason = error?.reason === undefined ? '' : `/${error.reason}`;
    throw new ApiRequestError(
      code,
      response.status,
      `${method} ${path}: ${response.status} ${code}${reason}: ${error?.message ?? text.slice(0, 200)}`,
    );
  }
  return json;
}
