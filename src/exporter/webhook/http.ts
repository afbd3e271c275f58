import { DeliveryError } from '../../errors.js';

/** How much of a refusing receiver's answer goes into the error: enough to see why. */
const BODY_SNIPPET_BYTES = 512;

export interface PostOptions {
  /** Configured headers; they may carry credentials and never appear in errors or logs. */
  readonly headers?: Headers | Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Aborts the request early, e.g. when the sink closes. */
  readonly signal?: AbortSignal;
}

/**
 * A URL split into what `fetch` may be given and what must stay out of messages. Node's
 * `fetch` refuses URLs with `user:password@`, so those become a Basic Authorization header,
 * and `target` (scheme, host and port only) is what errors name: paths of hosted webhooks
 * (Slack, Teams) are themselves secrets.
 */
export interface HttpTarget {
  readonly url: string;
  readonly target: string;
  readonly authorization?: string;
}

export function httpTarget(text: string): HttpTarget {
  const url = new URL(text);
  const target = url.origin;
  if (url.username === '' && url.password === '') return { url: url.href, target };

  const user = decodeUserInfo(url.username);
  const password = decodeUserInfo(url.password);
  url.username = '';
  url.password = '';
  const token = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
  return { url: url.href, target, authorization: `Basic ${token}` };
}

/** User info arrives percent-encoded; a stray `%` that is not an escape is taken as written. */
function decodeUserInfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The one place a status becomes a decision: 2xx is taken, 5xx and 429 may succeed later,
 * any other answer means the receiver refuses this request and always will.
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/**
 * POSTs `body` as JSON and resolves once the receiver answers 2xx. Every failure is a
 * `DeliveryError` whose `retryable` the export worker reads: network errors and timeouts are
 * retryable, and statuses are sorted by `isRetryableStatus`.
 */
export async function postJson(
  target: HttpTarget,
  body: unknown,
  options: PostOptions,
): Promise<void> {
  const headers = new Headers(options.headers);
  if (target.authorization && !headers.has('authorization')) {
    headers.set('authorization', target.authorization);
  }
  headers.set('content-type', 'application/json');

  // The timeout covers reading the answer too, so a receiver that stalls mid-body is cut off.
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;

  let response: Response;
  let snippet: string;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal,
      redirect: 'error',
    });
    snippet = await readSnippet(response);
  } catch (err) {
    const why = timeout.aborted ? `timed out after ${options.timeoutMs} ms` : describe(err);
    throw new DeliveryError(target.target, `POST to ${target.target} failed: ${why}`, {
      retryable: true,
      cause: err,
    });
  }

  if (response.ok) return;
  const answer = `${response.status} ${response.statusText}`.trim();
  throw new DeliveryError(
    target.target,
    `POST to ${target.target} answered ${answer}${snippet ? `: ${snippet}` : ''}`,
    { retryable: isRetryableStatus(response.status) },
  );
}

/**
 * Reads at most a few hundred bytes of the answer and drops the rest: a receiver's error text
 * helps explain a refusal, but a large or endless body must not hold the sender.
 */
async function readSnippet(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < BODY_SNIPPET_BYTES) {
    // Node types the chunks of a fetch body loosely; they are bytes.
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done || !value) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});

  const text = Buffer.concat(chunks).toString('utf8', 0, Math.min(size, BODY_SNIPPET_BYTES));
  return text.replace(/\s+/g, ' ').trim();
}

/** undici reports "fetch failed" and puts the reason (ECONNREFUSED, …) in `cause`. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/** GETs JSON from `target` (with its credentials); failures are `DeliveryError`s too. */
export async function getJson<T>(
  target: HttpTarget,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<T> {
  const headers = new Headers({ accept: 'application/json' });
  if (target.authorization) headers.set('authorization', target.authorization);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await fetch(target.url, { headers, signal, redirect: 'error' });
    if (!response.ok) {
      throw new DeliveryError(
        target.target,
        `GET from ${target.target} answered ${response.status}`,
        {
          retryable: isRetryableStatus(response.status),
        },
      );
    }
    return (await response.json()) as T;
  } catch (err) {
    if (err instanceof DeliveryError) throw err;
    const why = timeout.aborted ? `timed out after ${options.timeoutMs} ms` : describe(err);
    throw new DeliveryError(target.target, `GET from ${target.target} failed: ${why}`, {
      retryable: true,
      cause: err,
    });
  }
}
