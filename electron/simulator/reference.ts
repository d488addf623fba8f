/**
 * The simulator's reference data: what each symbol is called, where it lists and roughly what it
 * costs. Well-known tickers get their real names, listing exchanges and a realistic price level;
 * generated symbols (XAAA, ...) get a plausible made-up company from the seed; crypto pairs get
 * their coin names. Pure: the REST assets endpoint and the history generator both read it.
 */
import { CRYPTO_PAIRS, hashString, mulberry32 } from './market-walk.ts';

export interface Listing {
  readonly name: string;
  /** Alpaca's exchange names: NASDAQ, NYSE, ARCA, AMEX, BATS, OTC, CRYPTO. */
  readonly exchange: string;
  /** A recent price level the history wanders around. */
  readonly price: number;
}

// prettier-ignore
const WELL_KNOWN: Readonly<Record<string, Listing>> = {
  AAPL: { name: 'Apple Inc.', exchange: 'NASDAQ', price: 230 },
  MSFT: { name: 'Microsoft Corporation', exchange: 'NASDAQ', price: 420 },
  NVDA: { name: 'NVIDIA Corporation', exchange: 'NASDAQ', price: 180 },
  AMZN: { name: 'Amazon.com, Inc.', exchange: 'NASDAQ', price: 220 },
  GOOGL: { name: 'Alphabet Inc. Class A', exchange: 'NASDAQ', price: 250 },
  META: { name: 'Meta Platforms, Inc. Class A', exchange: 'NASDAQ', price: 700 },
  TSLA: { name: 'Tesla, Inc.', exchange: 'NASDAQ', price: 430 },
  AVGO: { name: 'Broadcom Inc.', exchange: 'NASDAQ', price: 340 },
  JPM: { name: 'JPMorgan Chase & Co.', exchange: 'NYSE', price: 300 },
  V: { name: 'Visa Inc. Class A', exchange: 'NYSE', price: 340 },
  UNH: { name: 'UnitedHealth Group Incorporated', exchange: 'NYSE', price: 330 },
  XOM: { name: 'Exxon Mobil Corporation', exchange: 'NYSE', price: 115 },
  MA: { name: 'Mastercard Incorporated Class A', exchange: 'NYSE', price: 570 },
  JNJ: { name: 'Johnson & Johnson', exchange: 'NYSE', price: 190 },
  PG: { name: 'The Procter & Gamble Company', exchange: 'NYSE', price: 150 },
  HD: { name: 'The Home Depot, Inc.', exchange: 'NYSE', price: 380 },
  COST: { name: 'Costco Wholesale Corporation', exchange: 'NASDAQ', price: 920 },
  ABBV: { name: 'AbbVie Inc.', exchange: 'NYSE', price: 230 },
  MRK: { name: 'Merck & Co., Inc.', exchange: 'NYSE', price: 90 },
  CVX: { name: 'Chevron Corporation', exchange: 'NYSE', price: 155 },
  PEP: { name: 'PepsiCo, Inc.', exchange: 'NASDAQ', price: 145 },
  KO: { name: 'The Coca-Cola Company', exchange: 'NYSE', price: 70 },
  ADBE: { name: 'Adobe Inc.', exchange: 'NASDAQ', price: 340 },
  CRM: { name: 'Salesforce, Inc.', exchange: 'NYSE', price: 240 },
  NFLX: { name: 'Netflix, Inc.', exchange: 'NASDAQ', price: 110 },
  AMD: { name: 'Advanced Micro Devices, Inc.', exchange: 'NASDAQ', price: 230 },
  INTC: { name: 'Intel Corporation', exchange: 'NASDAQ', price: 38 },
  CSCO: { name: 'Cisco Systems, Inc.', exchange: 'NASDAQ', price: 70 },
  ORCL: { name: 'Oracle Corporation', exchange: 'NYSE', price: 220 },
  WMT: { name: 'Walmart Inc.', exchange: 'NASDAQ', price: 100 },
  BAC: { name: 'Bank of America Corporation', exchange: 'NYSE', price: 52 },
  DIS: { name: 'The Walt Disney Company', exchange: 'NYSE', price: 112 },
  MCD: { name: "McDonald's Corporation", exchange: 'NYSE', price: 300 },
  QCOM: { name: 'QUALCOMM Incorporated', exchange: 'NASDAQ', price: 165 },
  TXN: { name: 'Texas Instruments Incorporated', exchange: 'NASDAQ', price: 175 },
  IBM: { name: 'International Business Machines Corporation', exchange: 'NYSE', price: 290 },
  GS: { name: 'The Goldman Sachs Group, Inc.', exchange: 'NYSE', price: 780 },
  CAT: { name: 'Caterpillar Inc.', exchange: 'NYSE', price: 520 },
  BA: { name: 'The Boeing Company', exchange: 'NYSE', price: 210 },
  NKE: { name: 'NIKE, Inc. Class B', exchange: 'NYSE', price: 65 },
  SBUX: { name: 'Starbucks Corporation', exchange: 'NASDAQ', price: 85 },
  PYPL: { name: 'PayPal Holdings, Inc.', exchange: 'NASDAQ', price: 65 },
  UBER: { name: 'Uber Technologies, Inc.', exchange: 'NYSE', price: 95 },
  SHOP: { name: 'Shopify Inc. Class A', exchange: 'NASDAQ', price: 150 },
  PLTR: { name: 'Palantir Technologies Inc. Class A', exchange: 'NASDAQ', price: 180 },
  SPY: { name: 'SPDR S&P 500 ETF Trust', exchange: 'ARCA', price: 600 },
  QQQ: { name: 'Invesco QQQ Trust, Series 1', exchange: 'NASDAQ', price: 520 },
  IWM: { name: 'iShares Russell 2000 ETF', exchange: 'ARCA', price: 240 },
  DIA: { name: 'SPDR Dow Jones Industrial Average ETF Trust', exchange: 'ARCA', price: 460 },
  F: { name: 'Ford Motor Company', exchange: 'NYSE', price: 12 },
};

const COINS: Readonly<Record<string, string>> = {
  BTC: 'Bitcoin',
  ETH: 'Ethereum',
  SOL: 'Solana',
  LTC: 'Litecoin',
  BCH: 'Bitcoin Cash',
  AVAX: 'Avalanche',
  LINK: 'Chainlink',
  UNI: 'Uniswap',
  AAVE: 'Aave',
  DOT: 'Polkadot',
  DOGE: 'Dogecoin',
  XRP: 'XRP',
  SHIB: 'Shiba Inu',
  USDT: 'Tether',
  USDC: 'USD Coin',
};

// prettier-ignore
const NAME_FIRST = [
  'Apex', 'Blue Ridge', 'Cedar', 'Delta', 'Evergreen', 'Frontier', 'Granite', 'Harbor', 'Ironwood',
  'Juniper', 'Keystone', 'Lumen', 'Meridian', 'Northstar', 'Oakmont', 'Pinnacle', 'Quarry',
  'Redwood', 'Summit', 'Tidewater', 'Union', 'Vantage', 'Westfield', 'Xenon', 'Yellowstone', 'Zenith',
];
// prettier-ignore
const NAME_SECOND = [
  'Systems', 'Therapeutics', 'Energy', 'Bancorp', 'Logistics', 'Semiconductor', 'Foods',
  'Materials', 'Networks', 'Biosciences', 'Industries', 'Software', 'Realty', 'Health', 'Mining',
  'Robotics', 'Financial', 'Brands', 'Aerospace', 'Communications',
];
const NAME_SUFFIX = ['Inc.', 'Corp.', 'Holdings, Inc.', 'Group Ltd.', 'Co.'];
const GENERATED_EXCHANGES = ['NASDAQ', 'NASDAQ', 'NYSE', 'NYSE', 'AMEX', 'ARCA', 'BATS'];

/** Whether a symbol is a crypto pair (`BTC/USD`). */
export function isCryptoSymbol(symbol: string): boolean {
  return symbol.includes('/');
}

/**
 * The listing of a stock symbol or crypto pair; generated names depend on the symbol and the seed
 * so two simulators with one seed agree.
 */
export function listingOf(symbol: string, seed: number): Listing {
  const known = WELL_KNOWN[symbol];
  if (known !== undefined) return known;
  if (isCryptoSymbol(symbol)) {
    const [base = symbol, quote = 'USD'] = symbol.split('/');
    const coin = COINS[base] ?? base;
    const price = CRYPTO_PAIRS[symbol] ?? 1 + mulberry32(hashString(symbol, seed))() * 100;
    return {
      name: `${coin} / ${quote === 'USD' ? 'US Dollar' : quote}`,
      exchange: 'CRYPTO',
      price,
    };
  }
  const h = hashString(symbol, seed);
  const rng = mulberry32(h);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)] as T;
  const name = `${pick(NAME_FIRST)} ${pick(NAME_SECOND)} ${pick(NAME_SUFFIX)}`;
  const exchange = pick(GENERATED_EXCHANGES);
  // log-uniform between $8 and $600: most names cheap, a few expensive
  const price = Math.round(8 * Math.exp(rng() * Math.log(75)) * 100) / 100;
  return { name, exchange, price };
}

/** A stable asset id (UUID-shaped) from the symbol, as Alpaca's ids are stable per asset. */
export function assetId(symbol: string): string {
  const parts = [0, 1, 2, 3].map((i) =>
    hashString(symbol, 0x5eed + i)
      .toString(16)
      .padStart(8, '0'),
  );
  const hex = parts.join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** An asset as `GET /v2/assets` writes it. */
export function assetJson(symbol: string, seed: number): Record<string, unknown> {
  const listing = listingOf(symbol, seed);
  if (isCryptoSymbol(symbol)) {
    return {
      id: assetId(symbol),
      class: 'crypto',
      exchange: 'CRYPTO',
      symbol,
      name: listing.name,
      status: 'active',
      tradable: true,
      marginable: false,
      maintenance_margin_requirement: 100,
      margin_requirement_long: '100',
      margin_requirement_short: '100',
      shortable: false,
      easy_to_borrow: false,
      fractionable: true,
      attributes: [],
      min_order_size: '0.000000002',
      min_trade_increment: '0.000000001',
      price_increment: listing.price >= 1000 ? '0.01' : listing.price >= 1 ? '0.0001' : '0.000001',
    };
  }
  return {
    id: assetId(symbol),
    class: 'us_equity',
    exchange: listing.exchange,
    symbol,
    name: listing.name,
    status: 'active',
    tradable: true,
    marginable: true,
    maintenance_margin_requirement: 30,
    margin_requirement_long: '30',
    margin_requirement_short: '30',
    shortable: true,
    easy_to_borrow: true,
    fractionable: true,
    attributes: ['has_options'],
  };
}
