import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ASSET_CACHE_FILE,
  SymbolDirectory,
  nameWords,
  type FetchAssets,
} from '../../../electron/market/symbol-directory.ts';
import type { Asset } from '../../../electron/rest/types.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2025-03-10T14:00:00Z');

function asset(symbol: string, name: string, extra: Partial<Asset> = {}): Asset {
  return {
    symbol,
    name,
    exchange: 'NASDAQ',
    assetClass: 'us_equity',
    status: 'active',
    tradable: true,
    ...extra,
  };
}

/** Real names for the ranking and word tests, among look-alike tickers. */
const KNOWN: Asset[] = [
  asset('A', 'Agilent Technologies Inc.', { exchange: 'NYSE' }),
  asset('AA', 'Alcoa Corporation', { exchange: 'NYSE' }),
  asset('AAL', 'American Airlines Group Inc.'),
  asset('AAP', 'Advance Auto Parts Inc.', { exchange: 'NYSE' }),
  asset('AAPL', 'Apple Inc.'),
  asset('APLE', 'Apple Hospitality REIT, Inc.', { exchange: 'NYSE' }),
  asset('AMZN', 'Amazon.com, Inc.'),
  asset('MSFT', 'Microsoft Corporation'),
  asset('MU', 'Micron Technology, Inc.'),
  asset('MCHP', 'Microchip Technology Incorporated'),
  asset('AMD', 'Advanced Micro Devices, Inc.'),
  asset('MCD', "McDonald's Corporation", { exchange: 'NYSE' }),
  asset('NSRGY', 'Nestlé S.A. Sponsored ADR', { exchange: 'OTC' }),
  asset('SAN', 'Banco Santander, S.A.', { exchange: 'NYSE' }),
  asset('GOOG', 'Alphabet Inc. Class C'),
  asset('GOOGL', 'Alphabet Inc. Class A'),
  asset('BRK.B', 'Berkshire Hathaway Inc. Class B', { exchange: 'NYSE' }),
  asset('ZVZZT', 'NASDAQ TEST STOCK', { tradable: false }),
  asset('OLDCO', 'Old Company Holdings', { status: 'inactive' }),
];

/** A deterministic generator (mulberry32), so the 12,000 assets are the same every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'global',
  'capital',
  'holdings',
  'energy',
  'bio',
  'pharma',
  'systems',
  'financial',
  'trust',
  'realty',
  'semiconductor',
  'acquisition',
  'partners',
  'industries',
  'resources',
  'networks',
  'therapeutics',
  'bancorp',
  'royalty',
  'mining',
  'société',
  'générale',
  'ünited',
  'technologies',
];

/** `count` assets with unique 1–5 letter tickers and three-word names, plus the KNOWN ones. */
function generated(count: number, seed = 7): Asset[] {
  const rnd = random(seed);
  const seen = new Set(KNOWN.map((a) => a.symbol));
  const out = [...KNOWN];
  while (out.length < count) {
    const length = 1 + Math.floor(rnd() * 5);
    let symbol = '';
    for (let i = 0; i < length; i++) symbol += String.fromCharCode(65 + Math.floor(rnd() * 26));
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    const pick = () => WORDS[Math.floor(rnd() * WORDS.length)]!;
    const name = `${pick()} ${pick()} ${pick()} Inc.`.replace(/^./, (c) => c.toUpperCase());
    out.push(asset(symbol, name, { tradable: rnd() > 0.05 }));
  }
  return out;
}

/** A loopback server answering `GET /v2/assets` with Alpaca's wire shape, or as told. */
interface AssetServer {
  readonly url: string;
  requests: number;
  mode: 'ok' | 'error' | 'empty' | 'slow';
  assets: Asset[];
  /** Answers the request held back in `slow` mode. */
  release(): void;
  close(): Promise<void>;
}

async function assetServer(assets: Asset[]): Promise<AssetServer> {
  let release: (() => void) | undefined;
  const state = {
    requests: 0,
    mode: 'ok' as AssetServer['mode'],
    assets,
  };
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (!req.url?.startsWith('/v2/assets')) {
      res.writeHead(404).end();
      return;
    }
    const answer = () => {
      if (state.mode === 'error') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"message":"internal error"}');
        return;
      }
      const body = state.mode === 'empty' ? [] : state.assets.map(toWire);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (state.mode === 'slow') release = answer;
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    release: () => release?.(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function toWire(a: Asset) {
  return {
    id: `id-${a.symbol}`,
    class: a.assetClass,
    symbol: a.symbol,
    name: a.name,
    exchange: a.exchange,
    status: a.status,
    tradable: a.tradable,
    marginable: true,
    shortable: true,
    fractionable: true,
    attributes: [],
  };
}

interface WireAsset {
  class: string;
  symbol: string;
  name: string;
  exchange: string;
  status: string;
  tradable: boolean;
}

/** What the service will pass: a real HTTP GET mapped to the domain shape. */
function httpFetchAssets(base: string): FetchAssets {
  return async (signal) => {
    const res = await fetch(`${base}/v2/assets?status=active&asset_class=us_equity`, {
      ...(signal ? { signal } : {}),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = (await res.json()) as WireAsset[];
    return body.map((w) => ({
      symbol: w.symbol,
      name: w.name,
      exchange: w.exchange,
      assetClass: w.class,
      status: w.status,
      tradable: w.tradable,
    }));
  };
}

let dir: string;
let server: AssetServer;
let now: number;
const clock = () => now;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'symbol-directory-'));
  server = await assetServer(KNOWN);
  now = T0;
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function loadOptions(extra: Partial<Parameters<SymbolDirectory['load']>[0]> = {}) {
  return { dir, now: clock, fetchAssets: httpFetchAssets(server.url), ...extra };
}

async function writeCache(fetchedAt: number, assets: Asset[]): Promise<void> {
  const rows = assets.map((a) => [
    a.symbol,
    a.name,
    a.exchange,
    a.assetClass,
    a.status,
    a.tradable,
  ]);
  await writeFile(
    join(dir, ASSET_CACHE_FILE),
    JSON.stringify({ version: 1, fetchedAt, assets: rows }),
  );
}

async function readCache(): Promise<{ version: number; fetchedAt: number; assets: unknown[][] }> {
  return JSON.parse(await readFile(join(dir, ASSET_CACHE_FILE), 'utf8')) as {
    version: number;
    fetchedAt: number;
    assets: unknown[][];
  };
}

describe('SymbolDirectory.load: the disk cache', () => {
  it('is unavailable before any load and accepts every symbol unchecked', () => {
    const directory = new SymbolDirectory();
    expect(directory.status).toBe('unavailable');
    expect(directory.lookup('AAPL')).toBeUndefined();
    expect(directory.search('apple')).toEqual([]);
    expect(directory.validate(['aapl', 'NOPE'])).toEqual({
      known: ['AAPL', 'NOPE'],
      unknown: [],
      flagged: [],
      checked: false,
    });
  });

  it('fetches without a cache, writes the compact versioned file atomically, and is ready', async () => {
    const directory = new SymbolDirectory();
    const outcome = await directory.load(loadOptions());
    expect(outcome).toEqual({
      source: 'fetched',
      status: 'ready',
      count: KNOWN.length,
      fetchedAt: T0,
      problem: undefined,
    });
    expect(server.requests).toBe(1);
    expect(directory.status).toBe('ready');
    expect(directory.fetchedAt).toBe(T0);
    expect(directory.lookup('aapl')).toEqual(KNOWN.find((a) => a.symbol === 'AAPL'));
    const file = await readCache();
    expect(file.version).toBe(1);
    expect(file.fetchedAt).toBe(T0);
    expect(file.assets).toContainEqual([
      'AAPL',
      'Apple Inc.',
      'NASDAQ',
      'us_equity',
      'active',
      true,
    ]);
    expect(file.assets).toContainEqual([
      'ZVZZT',
      'NASDAQ TEST STOCK',
      'NASDAQ',
      'us_equity',
      'active',
      false,
    ]);
    // No temp file left behind.
    expect(await readdir(dir)).toEqual([ASSET_CACHE_FILE]);
  });

  it('uses a cache younger than a day without fetching', async () => {
    await writeCache(T0 - 23 * HOUR, [
      asset('AAPL', 'Apple Inc.'),
      asset('MSFT', 'Microsoft Corporation'),
    ]);
    const directory = new SymbolDirectory();
    const outcome = await directory.load(loadOptions());
    expect(outcome.source).toBe('cache');
    expect(outcome.fetchedAt).toBe(T0 - 23 * HOUR);
    expect(outcome.problem).toBeUndefined();
    expect(server.requests).toBe(0);
    expect(directory.size).toBe(2);
    expect(directory.lookup('MSFT')?.name).toBe('Microsoft Corporation');
  });

  it('fetches again when the cache is older than maxAgeMs and rewrites it', async () => {
    await writeCache(T0 - DAY - 1, [asset('AAPL', 'Apple Inc.')]);
    const directory = new SymbolDirectory();
    const outcome = await directory.load(loadOptions());
    expect(outcome.source).toBe('fetched');
    expect(server.requests).toBe(1);
    expect(directory.size).toBe(KNOWN.length);
    expect((await readCache()).fetchedAt).toBe(T0);
  });

  it('honours a shorter maxAgeMs', async () => {
    await writeCache(T0 - 2 * HOUR, [asset('AAPL', 'Apple Inc.')]);
    const directory = new SymbolDirectory();
    expect((await directory.load(loadOptions({ maxAgeMs: HOUR }))).source).toBe('fetched');
    expect(server.requests).toBe(1);
  });

  it('treats a cache stamped in the future (the clock moved back) as old', async () => {
    await writeCache(T0 + HOUR, [asset('AAPL', 'Apple Inc.')]);
    const directory = new SymbolDirectory();
    expect((await directory.load(loadOptions())).source).toBe('fetched');
    expect(server.requests).toBe(1);
  });

  it('fetches at most once a day: later loads read memory, a restart reads the cache', async () => {
    const first = new SymbolDirectory();
    await first.load(loadOptions());
    now = T0 + 20 * HOUR;
    expect((await first.load(loadOptions())).source).toBe('memory');
    const restarted = new SymbolDirectory();
    expect((await restarted.load(loadOptions())).source).toBe('cache');
    expect(restarted.size).toBe(KNOWN.length);
    expect(server.requests).toBe(1);
    now = T0 + DAY + 1;
    expect((await restarted.load(loadOptions())).source).toBe('fetched');
    expect(server.requests).toBe(2);
  });

  it('shares one fetch between concurrent loads and says loading meanwhile', async () => {
    server.mode = 'slow';
    const directory = new SymbolDirectory();
    const a = directory.load(loadOptions());
    const b = directory.load(loadOptions());
    expect(directory.status).toBe('loading');
    while (server.requests === 0) await new Promise((r) => setTimeout(r, 5));
    server.release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toEqual(rb);
    expect(ra.source).toBe('fetched');
    expect(server.requests).toBe(1);
  });

  for (const [what, content] of [
    ['truncated', '{"version":1,"fetchedAt":1741615200000,"assets":[["AAPL","Apple Inc.","NAS'],
    ['empty', ''],
    ['of another version', JSON.stringify({ version: 2, fetchedAt: T0, assets: [] })],
    [
      'with a malformed row',
      JSON.stringify({ version: 1, fetchedAt: T0, assets: [['AAPL', 'Apple']] }),
    ],
    ['listing nothing', JSON.stringify({ version: 1, fetchedAt: T0, assets: [] })],
  ] as const) {
    it(`moves a cache file ${what} aside, logs it, fetches and writes a good one`, async () => {
      await writeFile(join(dir, ASSET_CACHE_FILE), content);
      const ring = new LogRing();
      const directory = new SymbolDirectory({ logger: ringLogger(ring) });
      const outcome = await directory.load(loadOptions());
      expect(outcome.source).toBe('fetched');
      expect(outcome.status).toBe('ready');
      expect(outcome.problem).toMatch(/asset cache was unusable .* moved to .*corrupt/);
      const names = await readdir(dir);
      const backup = names.find((n) => n.includes('.corrupt-'));
      expect(backup).toBeDefined();
      expect(await readFile(join(dir, backup!), 'utf8')).toBe(content);
      expect((await readCache()).assets).toHaveLength(KNOWN.length);
      expect(ring.records().some((r) => r.msg === 'asset cache unusable; moved aside')).toBe(true);
    });
  }

  it('keeps an old cache when the fetch fails, and says it is stale', async () => {
    await writeCache(T0 - 3 * DAY, [asset('AAPL', 'Apple Inc.')]);
    const before = await readFile(join(dir, ASSET_CACHE_FILE), 'utf8');
    server.mode = 'error';
    const ring = new LogRing();
    const directory = new SymbolDirectory({ logger: ringLogger(ring) });
    const outcome = await directory.load(loadOptions());
    expect(outcome.source).toBe('stale');
    expect(outcome.status).toBe('ready');
    expect(outcome.fetchedAt).toBe(T0 - 3 * DAY);
    expect(outcome.problem).toMatch(
      /could not be refreshed \(HTTP 500\); the older list from 2025-03-07/,
    );
    expect(directory.lookup('AAPL')?.name).toBe('Apple Inc.');
    expect(directory.validate(['MSFT']).unknown).toHaveLength(1);
    expect(await readFile(join(dir, ASSET_CACHE_FILE), 'utf8')).toBe(before);
    expect(ring.records().some((r) => r.level === 40)).toBe(true);
  });

  it('keeps the list in memory when a later refresh fails', async () => {
    const directory = new SymbolDirectory();
    await directory.load(loadOptions());
    await rm(join(dir, ASSET_CACHE_FILE));
    server.mode = 'error';
    now = T0 + 2 * DAY;
    const outcome = await directory.load(loadOptions());
    expect(outcome.source).toBe('stale');
    expect(directory.size).toBe(KNOWN.length);
  });

  it('stays unavailable when the fetch fails without a cache, and accepts symbols as before', async () => {
    server.mode = 'error';
    const directory = new SymbolDirectory();
    const outcome = await directory.load(loadOptions());
    expect(outcome).toMatchObject({ source: 'none', status: 'unavailable', count: 0 });
    expect(outcome.problem).toMatch(
      /could not be fetched \(HTTP 500\); symbols are accepted unchecked/,
    );
    expect(directory.status).toBe('unavailable');
    expect(directory.validate(['ANYTHING']).known).toEqual(['ANYTHING']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an empty list as a failure (it would refuse every symbol)', async () => {
    server.mode = 'empty';
    const directory = new SymbolDirectory();
    const outcome = await directory.load(loadOptions());
    expect(outcome.source).toBe('none');
    expect(outcome.problem).toMatch(/came back empty/);
  });

  it('reports an unreachable host as a failure, not a crash', async () => {
    await server.close();
    const directory = new SymbolDirectory();
    const outcome = await directory.load(loadOptions());
    expect(outcome.source).toBe('none');
    server = await assetServer(KNOWN);
  });

  it('says a cancelled fetch was cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const directory = new SymbolDirectory();
    const outcome = await directory.load(loadOptions({ signal: controller.signal }));
    expect(outcome.problem).toMatch(/cancelled/);
    expect(server.requests).toBe(0);
  });

  it('still works when the cache cannot be written', async () => {
    // A folder where the cache's folder should be a file: mkdir and the rename both fail.
    const blocked = join(dir, 'file');
    await writeFile(blocked, 'not a folder');
    const directory = new SymbolDirectory();
    const outcome = await directory.load(loadOptions({ dir: join(blocked, 'sub') }));
    expect(outcome.source).toBe('fetched');
    expect(outcome.status).toBe('ready');
    expect(outcome.problem).toMatch(/could not be cached/);
  });
});

describe('SymbolDirectory.search', () => {
  const directory = new SymbolDirectory();
  directory.setAssets(KNOWN, T0);
  const symbols = (query: string, limit?: number) =>
    directory.search(query, limit).map((a) => a.symbol);

  it('puts the exact ticker first, then prefix matches with shorter tickers first', () => {
    expect(symbols('a').slice(0, 4)).toEqual(['A', 'AA', 'AAL', 'AAP']);
    expect(symbols('AA').slice(0, 4)).toEqual(['AA', 'AAL', 'AAP', 'AAPL']);
    expect(symbols('aap')[0]).toBe('AAP');
    expect(symbols('aapl')[0]).toBe('AAPL');
    expect(symbols('GOOG').slice(0, 2)).toEqual(['GOOG', 'GOOGL']);
    expect(symbols('brk.b')).toEqual(['BRK.B']);
  });

  it('finds names by word prefix: every query word starts some word of the name', () => {
    expect(symbols('micro')).toEqual(expect.arrayContaining(['MSFT', 'MU', 'MCHP', 'AMD']));
    expect(symbols('micro')).toHaveLength(4);
    expect(symbols('apple inc')[0]).toBe('AAPL');
    expect(symbols('apple inc')).toEqual(['AAPL', 'APLE']);
    expect(symbols('inc apple')).toEqual(expect.arrayContaining(['AAPL', 'APLE']));
    expect(symbols('apple hosp')).toEqual(['APLE']);
    expect(symbols('micro tech')).toEqual(expect.arrayContaining(['MU', 'MCHP']));
    expect(symbols('micro tech')).not.toContain('MSFT');
    expect(symbols('alphabet class a')).toEqual(['GOOGL', 'GOOG']);
  });

  it('ranks names that start with the query before names that only contain it', () => {
    // "Micro..." as the first word beats Advanced Micro Devices.
    expect(symbols('micro').at(-1)).toBe('AMD');
  });

  it('ignores case, accents, apostrophes and dots', () => {
    expect(symbols('nestle')).toEqual(['NSRGY']);
    expect(symbols('NESTLÉ')).toEqual(['NSRGY']);
    expect(symbols('Nestlé s.a.')).toEqual(['NSRGY']);
    expect(symbols('mcdonalds')).toEqual(['MCD']);
    expect(symbols("mcdonald's")).toEqual(['MCD']);
    expect(symbols('amazon')).toEqual(['AMZN']);
    expect(nameWords('Société Générale, S.A.')).toEqual(['societe', 'generale', 'sa']);
  });

  it('lists ticker matches before name matches, each asset once', () => {
    directory.addAssets([asset('MICRO', 'Some Micro Fund')]);
    try {
      const found = symbols('micro', 10);
      expect(found[0]).toBe('MICRO');
      expect(new Set(found).size).toBe(found.length);
    } finally {
      directory.setAssets(KNOWN, T0);
    }
  });

  it('honours the limit and answers nothing for blank or unmatched queries', () => {
    expect(symbols('a', 2)).toEqual(['A', 'AA']);
    expect(symbols('a', 0)).toEqual([]);
    expect(symbols('   ')).toEqual([]);
    expect(symbols('zzzzqqq')).toEqual([]);
    expect(symbols('apple zzz')).toEqual([]);
  });
});

describe('SymbolDirectory.validate', () => {
  const directory = new SymbolDirectory();
  directory.setAssets(KNOWN, T0);

  it('accepts listed symbols, normalized, once each', () => {
    const v = directory.validate([' aapl', 'MSFT', 'AAPL']);
    expect(v).toEqual({ known: ['AAPL', 'MSFT'], unknown: [], flagged: [], checked: true });
  });

  it('refuses an unlisted symbol with the reason and close tickers', () => {
    const v = directory.validate(['APPL', 'MSFY', 'GOO', 'QQQQQQ', '']);
    expect(v.known).toEqual([]);
    const bySymbol = new Map(v.unknown.map((u) => [u.symbol, u]));
    expect(bySymbol.get('APPL')).toEqual({
      symbol: 'APPL',
      reason: 'APPL is not an active US-listed symbol on Alpaca; did you mean AAPL?',
      suggestions: ['AAPL'],
    });
    expect(bySymbol.get('MSFY')?.suggestions).toEqual(['MSFT']);
    expect(bySymbol.get('GOO')?.suggestions).toEqual(['GOOG', 'GOOGL']);
    expect(bySymbol.get('GOO')?.reason).toMatch(/did you mean GOOG or GOOGL\?$/);
    expect(bySymbol.get('QQQQQQ')).toEqual({
      symbol: 'QQQQQQ',
      reason: 'QQQQQQ is not an active US-listed symbol on Alpaca',
      suggestions: [],
    });
    expect(bySymbol.get('')?.reason).toBe('an empty symbol');
  });

  it('suggests BRK.B for BRK-B and BRKB', () => {
    const v = directory.validate(['BRK-B', 'BRKB']);
    expect(v.unknown.map((u) => u.suggestions)).toEqual([['BRK.B'], ['BRK.B']]);
  });

  it('accepts a listed symbol that is not tradable or not active, flagged', () => {
    const v = directory.validate(['ZVZZT', 'OLDCO']);
    expect(v.known).toEqual(['ZVZZT', 'OLDCO']);
    expect(v.flagged).toEqual([
      { symbol: 'ZVZZT', reason: 'ZVZZT is listed on Alpaca but not tradable' },
      { symbol: 'OLDCO', reason: 'OLDCO is listed on Alpaca as inactive' },
    ]);
  });

  it('knows crypto pairs the service adds, and says "crypto pair" for unknown ones', () => {
    const d = new SymbolDirectory();
    d.setAssets(KNOWN, T0);
    d.addAssets([
      asset('BTC/USD', 'Bitcoin / US Dollar', { exchange: 'CRYPTO', assetClass: 'crypto' }),
    ]);
    expect(d.lookup('btc/usd')?.assetClass).toBe('crypto');
    expect(d.search('btc')[0]?.symbol).toBe('BTC/USD');
    expect(d.search('bitcoin')[0]?.symbol).toBe('BTC/USD');
    const v = d.validate(['BTC/USD', 'BTC/USDT']);
    expect(v.known).toEqual(['BTC/USD']);
    expect(v.unknown[0]?.reason).toBe(
      'BTC/USDT is not an active crypto pair on Alpaca; did you mean BTC/USD?',
    );
    // Added assets survive a refreshed list.
    d.setAssets(KNOWN, T0 + DAY);
    expect(d.lookup('BTC/USD')).toBeDefined();
  });
});

describe('SymbolDirectory at 12,000 assets', () => {
  const assets = generated(12_000);
  const directory = new SymbolDirectory();
  directory.setAssets(assets, T0);

  it('holds them all, each found by its exact ticker first', () => {
    expect(directory.size).toBe(12_000);
    for (const a of assets.slice(0, 2_000)) {
      expect(directory.search(a.symbol, 3)[0]?.symbol).toBe(a.symbol);
      expect(directory.lookup(a.symbol)).toBe(a);
    }
  });

  it('answers name-word searches correctly (checked against a plain scan)', () => {
    for (const query of ['semi bio', 'soc gen', 'Ünited trust', 'apple inc', 'glob', 'micro']) {
      const qWords = nameWords(query);
      const expected = new Set(
        assets.filter((a) => {
          const words = nameWords(a.name);
          return qWords.every((q) => words.some((w) => w.startsWith(q)));
        }),
      );
      const prefix = query.includes(' ') ? '' : query.toUpperCase();
      const byTicker = prefix ? assets.filter((a) => a.symbol.startsWith(prefix)) : [];
      const found = directory.search(query, 100);
      expect(found.length).toBe(Math.min(100, new Set([...byTicker, ...expected]).size));
      for (const a of found) expect(expected.has(a) || byTicker.includes(a)).toBe(true);
    }
  });

  it('finishes 1,000 mixed searches (the timing itself belongs to the bench)', () => {
    const rnd = random(11);
    const queries = [
      'a',
      'ab',
      'glo',
      'semi',
      'capital hold',
      'bio ph',
      'x',
      'zz',
      'trust r',
      'soc',
    ];
    let results = 0;
    const started = performance.now();
    for (let i = 0; i < 1_000; i++) {
      const query = queries[Math.floor(rnd() * queries.length)]!;
      results += directory.search(query).length;
    }
    const elapsed = performance.now() - started;
    expect(results).toBeGreaterThan(5_000);
    // Loose on purpose: a shared CI core must not fail this; 1,000 searches take ~50 ms here.
    expect(elapsed).toBeLessThan(20_000);
  });

  it('validates 12,000 symbols with suggestions without trouble', () => {
    const typos = assets.slice(0, 1_000).map((a) => `${a.symbol}Q`);
    const v = directory.validate([...assets.map((a) => a.symbol), ...typos]);
    // A typo that happens to be another listed ticker is known; every other one is refused.
    const listedTypos = typos.filter((t) => directory.lookup(t) !== undefined).length;
    expect(v.known).toHaveLength(12_000);
    expect(v.unknown).toHaveLength(1_000 - listedTypos);
    for (const u of v.unknown) expect(u.symbol.endsWith('Q')).toBe(true);
    expect(v.flagged.length).toBeGreaterThan(100);
  });

  it('costs a few MB of heap for the index (measured loosely; see the module header)', () => {
    const before = process.memoryUsage().heapUsed;
    const other = new SymbolDirectory();
    other.setAssets(assets, T0);
    const grown = process.memoryUsage().heapUsed - before;
    expect(other.size).toBe(12_000);
    // Without --expose-gc the figure includes garbage; the stated figure comes from a gc'd run.
    expect(grown).toBeLessThan(40 * 1024 * 1024);
  });
});
