/**
 * @module One HTTP POST of the HTTP sink: through `node:http` / `node:https` with keep-alive
 * agents on Node.js, through `fetch` on other runtimes (Deno).
 *
 * Why not `fetch` on Node.js: Node's fetch (undici) parses responses with llhttp compiled to
 * WebAssembly. Once that parser is hot, V8 tiers its 29 KB state-machine function up with
 * TurboFan, which took 180 ms of CPU and 32 MB of compiler memory in the sensor-window benchmark:
 * the gateway's peak RSS jumped by 24–28 MB, a third of it. `node:http` parses with the native
 * llhttp and costs nothing of the kind.
 */

/** The answer to one POST. */
export interface PostResponse {
  status: number;
  /** The `Retry-After` header, if any. */
  retryAfter: string | null;
  /** The body as text (at most {@link MAX_BODY_BYTES} of it). */
  body: string;
}

/** Posts request bodies; `close()` closes its idle connections. */
export interface HttpPoster {
  /** Rejects with `signal.reason` when the signal aborts, with a network error otherwise. */
  post(
    url: string,
    headers: Record<string, string>,
    body: Uint8Array<ArrayBuffer>,
    signal: AbortSignal,
  ): Promise<PostResponse>;
  close(): void;
}

/** The most of an answer's body kept (the sink quotes 512 bytes of a refusal). */
export const MAX_BODY_BYTES = 64 * 1024;

/** True on Node.js itself (Deno and Bun also define `process.versions.node`). */
function onNode(): boolean {
  const runtime = globalThis as { process?: { versions?: { node?: string } } };
  return (
    runtime.process?.versions?.node !== undefined &&
    !('Deno' in globalThis) &&
    !('Bun' in globalThis)
  );
}

/** The poster for this runtime. */
export async function createHttpPoster(): Promise<HttpPoster> {
  return onNode() ? await nodePoster() : fetchPoster();
}

/** The `fetch` poster (Deno; exported for tests, which run both). */
export function fetchPoster(): HttpPoster {
  return {
    async post(url, headers, body, signal) {
      const response = await fetch(url, { method: 'POST', headers, body, signal });
      const text = await response.text();
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: text.slice(0, MAX_BODY_BYTES),
      };
    },
    close() {},
  };
}

/** The `node:http` poster (Node.js; exported for tests, which run both). */
export async function nodePoster(): Promise<HttpPoster> {
  const [http, https] = await Promise.all([import('node:http'), import('node:https')]);
  // Idle keep-alive sockets are unreferenced by the agent: they do not hold the process open.
  const plain = new http.Agent({ keepAlive: true });
  const secure = new https.Agent({ keepAlive: true });
  return {
    post(url, headers, body, signal) {
      return new Promise<PostResponse>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const target = new URL(url);
        const tls = target.protocol === 'https:';
        const request = (tls ? https : http).request(target, {
          method: 'POST',
          headers: { ...headers, 'content-length': String(body.byteLength) },
          agent: tls ? secure : plain,
        });
        const fail = (error: unknown): void => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        };
        const onAbort = (): void => {
          request.destroy();
          fail(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        request.on('error', fail);
        request.on('response', (response) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          response.on('data', (chunk: Buffer) => {
            if (kept >= MAX_BODY_BYTES) return;
            chunks.push(chunk);
            kept += chunk.length;
          });
          response.on('error', fail);
          response.on('end', () => {
            signal.removeEventListener('abort', onAbort);
            const retryAfter = response.headers['retry-after'];
            resolve({
              status: response.statusCode ?? 0,
              retryAfter: retryAfter ?? null,
              body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY_BYTES),
            });
          });
        });
        request.end(body);
      });
    },
    close() {
      plain.destroy();
      secure.destroy();
    },
  };
}
