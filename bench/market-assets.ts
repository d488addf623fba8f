/**
 * A realistic asset list and add-box queries for the directory search benchmark (bench/market.ts).
 *
 * Assets resemble Alpaca's active US-equity list: tickers of one to five letters (most of four, a
 * few share classes like BRK.B, warrants and units ending in W and U), and multi-word names of
 * operating companies, ETFs, SPACs and funds, many with Alpaca's "Class A Common Stock" tails, so
 * that a few words ("inc", "common", "shares", "etf") are in thousands of names, as on the real list.
 *
 * Queries are what the add box sends as someone types: every prefix of a ticker, every prefix of a
 * name word, two words being typed, and the frequent words that make the worst case. Seeded: two
 * runs see the same list and queries.
 */
import type { Asset } from '../electron/rest/types.ts';
import { mulberry32 } from '../electron/simulator/market-walk.ts';

export type QueryKind = 'ticker' | 'name' | 'name+' | 'common';

export interface Query {
  readonly kind: QueryKind;
  readonly text: string;
  /** For the full ticker typed: the asset that must come first. */
  readonly exact?: string;
}

type Rng = () => number;

const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;

// prettier-ignore
const COMMON_WORDS = [
  'American', 'First', 'United', 'National', 'Global', 'Pacific', 'Atlantic', 'Capital', 'General',
  'International', 'Advanced', 'Applied', 'Digital', 'Southern', 'Northern', 'Western', 'Eastern',
  'Community', 'Federal', 'Royal', 'Central', 'Citizens', 'Premier', 'Liberty', 'Heritage', 'Summit',
  'Pioneer', 'Frontier', 'Alpha', 'Omega', 'Sun', 'Star', 'Blue', 'Green', 'Silver', 'Golden',
];
// prettier-ignore
const INDUSTRY = [
  'Therapeutics', 'Pharmaceuticals', 'Biosciences', 'Bancorp', 'Bancshares', 'Financial', 'Energy',
  'Resources', 'Mining', 'Gold', 'Oil & Gas', 'Technologies', 'Technology', 'Software', 'Systems',
  'Semiconductor', 'Networks', 'Communications', 'Media', 'Entertainment', 'Realty', 'Properties',
  'Industries', 'Manufacturing', 'Logistics', 'Airlines', 'Motors', 'Foods', 'Brands', 'Health',
  'Healthcare', 'Medical', 'Diagnostics', 'Genomics', 'Robotics', 'Aerospace', 'Defense',
  'Materials', 'Chemicals', 'Utilities', 'Power', 'Water', 'Insurance', 'Holdings', 'Partners',
  'Solutions', 'Services', 'Entertainment', 'Hospitality', 'Retail', 'Apparel', 'Education',
];
// prettier-ignore
const SUFFIX = [
  'Inc.', 'Inc.', 'Inc.', 'Corp.', 'Corporation', 'Holdings, Inc.', 'Group, Inc.', 'Ltd.', 'plc',
  'Co.', 'Incorporated', 'Company', 'N.V.', 'S.A.', 'Limited', 'L.P.',
];
// prettier-ignore
const SHARE_TAIL = [
  '', '', '', 'Common Stock', 'Common Stock', 'Class A Common Stock', 'Class B Common Stock',
  'Ordinary Shares', 'American Depositary Shares', 'Class A Ordinary Shares',
];
// prettier-ignore
const ETF_ISSUERS = [
  'iShares', 'iShares Core', 'SPDR', 'Vanguard', 'Invesco', 'Schwab', 'First Trust', 'Global X',
  'ProShares', 'Direxion Daily', 'WisdomTree', 'VanEck', 'Fidelity', 'JPMorgan', 'ARK',
];
// prettier-ignore
const ETF_TOPICS = [
  'S&P 500', 'Russell 2000', 'MSCI Emerging Markets', 'MSCI EAFE', 'Total Stock Market',
  'Short-Term Treasury', '20+ Year Treasury Bond', 'High Yield Corporate Bond', 'Semiconductor',
  'Biotech', 'Regional Banks', 'Gold Miners', 'Clean Energy', 'Dividend Growth', 'High Dividend',
  'Nasdaq-100', 'Mid-Cap Value', 'Small-Cap Growth', 'Innovation', 'Cybersecurity', 'China Large-Cap',
  'Japan', 'Real Estate', 'Utilities Select Sector', 'Bull 3X Shares', 'Bear 3X Shares', 'Ultra QQQ',
];
const SYLLABLES = [
  'ka',
  'ro',
  'lin',
  've',
  'tra',
  'mo',
  'ne',
  'dex',
  'sa',
  'li',
  'ber',
  'to',
  'qui',
  'ar',
  'zen',
  'cor',
  'ta',
  'vi',
  'on',
  'pha',
  'mi',
  'ga',
  'nu',
  'ster',
  'el',
  'po',
  'rix',
  'da',
  'fi',
  'os',
] as const;

function properWord(rng: Rng): string {
  if (rng() < 0.3) return pick(rng, COMMON_WORDS);
  const n = 2 + Math.floor(rng() * 2);
  let w = '';
  for (let i = 0; i < n; i++) w += pick(rng, SYLLABLES);
  return w[0]!.toUpperCase() + w.slice(1);
}

function ticker(rng: Rng): string {
  const r = rng();
  // Roughly the listed mix: a few one- and two-letter tickers, most of three and four, some five.
  const length = r < 0.01 ? 1 : r < 0.05 ? 2 : r < 0.3 ? 3 : r < 0.85 ? 4 : 5;
  let t = '';
  for (let i = 0; i < length; i++) t += String.fromCharCode(65 + Math.floor(rng() * 26));
  return t;
}

function companyName(rng: Rng): string {
  const words = [properWord(rng)];
  if (rng() < 0.35) words.push(properWord(rng));
  if (rng() < 0.8) words.push(pick(rng, INDUSTRY));
  words.push(pick(rng, SUFFIX));
  const tail = pick(rng, SHARE_TAIL);
  if (tail !== '') words.push(tail);
  return words.join(' ');
}

/** `count` distinct assets, sorted by nothing in particular (the directory sorts). */
export function generateAssets(count: number, seed: number): Asset[] {
  const rng = mulberry32(seed);
  const seen = new Set<string>();
  const out: Asset[] = [];
  const add = (symbol: string, name: string, exchange: string): void => {
    if (seen.has(symbol) || out.length >= count) return;
    seen.add(symbol);
    out.push({ symbol, name, exchange, assetClass: 'us_equity', status: 'active', tradable: true });
  };
  while (out.length < count) {
    const r = rng();
    const exchange = pick(rng, ['NASDAQ', 'NASDAQ', 'NYSE', 'NYSE', 'ARCA', 'AMEX', 'BATS', 'OTC']);
    if (r < 0.2) {
      add(ticker(rng), `${pick(rng, ETF_ISSUERS)} ${pick(rng, ETF_TOPICS)} ETF`, 'ARCA');
    } else if (r < 0.28) {
      // A SPAC: its shares, and often its units and warrants under the same stem.
      const stem = ticker(rng).slice(0, 4).padEnd(4, 'X');
      const name = `${properWord(rng)} ${pick(rng, ['Acquisition', 'Capital Acquisition', 'Growth'])} Corp.`;
      add(stem, `${name} Class A Ordinary Shares`, exchange);
      if (rng() < 0.7) add(`${stem}U`, `${name} Units`, exchange);
      if (rng() < 0.7) add(`${stem}W`, `${name} Warrants`, exchange);
    } else if (r < 0.32) {
      add(
        ticker(rng),
        `${properWord(rng)} ${pick(rng, ['Municipal Income Fund', 'Realty Trust', 'Premium Income Fund', 'Royalty Trust'])}`,
        'NYSE',
      );
    } else if (r < 0.335) {
      // Share classes: BRK.A and BRK.B.
      const stem = ticker(rng).slice(0, 3);
      const name = companyName(rng).replace(/ (Class [AB] )?Common Stock$/, '');
      add(`${stem}.A`, `${name} Class A`, 'NYSE');
      add(`${stem}.B`, `${name} Class B`, 'NYSE');
    } else {
      add(ticker(rng), companyName(rng), exchange);
    }
  }
  return out;
}

/** Normalized words of a name as someone would type them (lower case, no punctuation). */
function typedWords(name: string): string[] {
  return name
    .toLowerCase()
    .split(/[^a-z0-9&+-]+/)
    .filter((w) => w !== '' && w !== '&');
}

/** Every prefix of `text` from `from` characters on: what the box sends keystroke by keystroke. */
function prefixes(text: string, from = 1): string[] {
  const out: string[] = [];
  for (let n = from; n <= text.length; n++) out.push(text.slice(0, n));
  return out;
}

/** About `count` queries (whole typed words, so a few more), in a shuffled but seeded order. */
export function generateQueries(assets: readonly Asset[], count: number, seed: number): Query[] {
  const rng = mulberry32(seed);
  const out: Query[] = [];
  const common = [
    'inc',
    'corp',
    'etf',
    'class a',
    'common stock',
    'ishares',
    'trust',
    'fund',
    'holdings',
    'shares',
    'ordinary shares',
    'acquisition',
  ];
  while (out.length < count) {
    const asset = pick(rng, assets);
    const r = rng();
    if (r < 0.4) {
      const typed = rng() < 0.5 ? asset.symbol.toLowerCase() : asset.symbol;
      for (const text of prefixes(typed)) {
        out.push(
          text === typed ? { kind: 'ticker', text, exact: asset.symbol } : { kind: 'ticker', text },
        );
      }
    } else if (r < 0.75) {
      const words = typedWords(asset.name);
      const word = rng() < 0.7 ? words[0] : pick(rng, words);
      if (word !== undefined)
        for (const text of prefixes(word, 2)) out.push({ kind: 'name', text });
    } else if (r < 0.9) {
      const words = typedWords(asset.name);
      if (words.length >= 2) {
        const two = `${words[0]!} ${words[1]!}`;
        for (const text of prefixes(two, words[0]!.length + 2)) out.push({ kind: 'name+', text });
      }
    } else {
      const word = pick(rng, common);
      for (const text of prefixes(word, Math.min(3, word.length)))
        out.push({ kind: 'common', text });
    }
  }
  // Shuffle (Fisher-Yates): keystrokes of one word back to back would flatter the caches.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
