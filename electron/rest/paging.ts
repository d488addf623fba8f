/**
 * The pure parts of calls that take more than one request: splitting a symbol list so each request
 * stays under both the symbol count and the URL length Alpaca accepts (long lists fail with 414),
 * running the pieces with a small concurrency where the first failure stops the rest, and following
 * `next_page_token` to the end without looping on a token the server repeats.
 */

/** Query length kept under this: 414s were reported around 7,000 symbols (~40,000 characters). */
export const MAX_QUERY_CHARS = 7_000;

/** A symbol as it stands in a comma-separated `symbols=` list (crypto's slash is encoded). */
export function encodeSymbol(symbol: string): string {
  return encodeURIComponent(symbol);
}

/**
 * Splits `symbols` in order into lists of at most `maxCount` symbols whose encoded, comma-joined
 * text is at most `maxChars` characters. A symbol longer than `maxChars` on its own still gets a
 * list of its own (the server will refuse it; nothing here can make it shorter).
 */
export function chunkSymbols(
  symbols: readonly string[],
  maxCount: number,
  maxChars: number,
): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const symbol of symbols) {
    const length = encodeSymbol(symbol).length;
    const added = current.length === 0 ? length : chars + 1 + length;
    if (current.length > 0 && (current.length >= maxCount || added > maxChars)) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    chars = current.length === 0 ? length : chars + 1 + length;
    current.push(symbol);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Runs `worker` over `items` with at most `concurrency` at once, results in input order. The first
 * failure aborts the signal handed to the others and is what the call rejects with, so a caller
 * gets all of the results or one error, never a part.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, signal: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  if (signal?.aborted) controller.abort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await worker(items[index]!, controller.signal);
      } catch (error) {
        failure ??= { error };
        controller.abort();
      }
    }
  };
  try {
    const lanes = Math.max(1, Math.min(Math.floor(concurrency), items.length));
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure.error;
  return results;
}

export interface Page {
  readonly nextPageToken: string | undefined;
  /** Items on the page (bars across all symbols). */
  readonly size: number;
}

export type PageStop = 'end' | 'repeated-token' | 'empty-page' | 'enough';

/**
 * Fetches the first page and follows its tokens, handing each page to `onPage` in order. Stops
 * when the token is absent or empty, when a token comes back that was already followed (a server
 * loop would otherwise never end), on a page with nothing on it (Alpaca's pages are full until
 * the last; an empty one with a token would only lead to more empty ones), or when `onPage`
 * returns 'stop' (the caller has what it asked for: `enough`).
 */
export async function followPages<P extends Page>(
  fetchPage: (token: string | undefined) => Promise<P>,
  // `unknown`, not `void | 'stop'`: a callback that returns something else (an arrow around
  // push) still fits; only 'stop' means anything.
  onPage: (page: P) => unknown,
): Promise<{ readonly pages: number; readonly stop: PageStop }> {
  const seen = new Set<string>();
  let token: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await fetchPage(token);
    if (onPage(page) === 'stop') return { pages, stop: 'enough' };
    const next = page.nextPageToken;
    if (next === undefined || next === '') return { pages, stop: 'end' };
    if (seen.has(next)) return { pages, stop: 'repeated-token' };
    if (page.size === 0) return { pages, stop: 'empty-page' };
    seen.add(next);
    token = next;
  }
}
