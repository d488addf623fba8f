/**
 * A watchlist as text, both ways. Import reads what people have: one ticker a line, comma (or
 * space, semicolon, tab) separated lists, and TradingView's export (`EXCHANGE:TICKER` entries,
 * `###Section` headers between them). Export writes one ticker a line, which every one of those
 * tools reads back. Pure: the panel reads a file or a paste and hands over the text.
 */
import { normalizeSymbol } from '../../shared/api.ts';

export interface ParsedList {
  /** Normalized symbols, first occurrence order, no duplicates. */
  readonly symbols: readonly string[];
  /** Entries that are not symbols, with why (shown to the user, not silently dropped). */
  readonly skipped: ReadonlyArray<{ readonly input: string; readonly reason: string }>;
}

/** Entries read from one import at most (a list holds fewer; the rest would only be refused). */
export const IMPORT_ENTRY_LIMIT = 20_000;

export function parseSymbolList(text: string): ParsedList {
  const symbols: string[] = [];
  const seen = new Set<string>();
  const skipped: Array<{ input: string; reason: string }> = [];
  // A byte-order mark from a Windows editor is not part of the first ticker.
  const body = text.replace(/^\uFEFF/, '');
  let entries = 0;
  for (const rawLine of body.split(/\r\n|\n|\r/)) {
    const line = rawLine.trim();
    // A comment line (# note); TradingView's section headers (###Tech) are skipped per entry.
    if (line === '' || (line.startsWith('#') && !line.startsWith('###'))) continue;
    for (const token of line.split(/[\s,;]+/)) {
      if (token === '' || token.startsWith('###')) continue;
      if (++entries > IMPORT_ENTRY_LIMIT) {
        skipped.push({ input: '…', reason: `more than ${IMPORT_ENTRY_LIMIT} entries` });
        return { symbols, skipped };
      }
      // Quoted cells from a spreadsheet's CSV; EXCHANGE:TICKER from TradingView.
      const unquoted = token.replace(/^["']+|["']+$/g, '');
      const colon = unquoted.lastIndexOf(':');
      const ticker = colon >= 0 ? unquoted.slice(colon + 1) : unquoted;
      const check = normalizeSymbol(ticker);
      if (!check.ok) {
        skipped.push({
          input: token.length > 32 ? `${token.slice(0, 30)}…` : token,
          reason: check.reason,
        });
        continue;
      }
      if (seen.has(check.symbol)) continue;
      seen.add(check.symbol);
      symbols.push(check.symbol);
    }
  }
  return { symbols, skipped };
}

/** One ticker a line, with a final newline. */
export function formatSymbolList(symbols: readonly string[]): string {
  return symbols.length === 0 ? '' : `${symbols.join('\n')}\n`;
}

/** A file name for a list's export: its name, safe on every file system. */
export function exportFileName(listName: string): string {
  const safe = listName
    .replace(/[^A-Za-z0-9 ._-]+/g, '')
    .trim()
    .replace(/\s+/g, '-');
  return `${safe === '' ? 'watchlist' : safe.slice(0, 60)}.txt`;
}
