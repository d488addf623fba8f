/**
 * The way back from the domain to the wire: a normalized message (shared/market.ts) as the item
 * Alpaca would have sent for it, so that the relay can serve what its one upstream client decoded
 * to any number of Alpaca clients. Field letters are Alpaca's; absent optional fields stay absent;
 * trade ids kept as text because they pass 2^53 go back out as exact integers (bigint).
 */
import type { Channel, DataMessage, TradeId } from '../../shared/market.ts';

type Item = Record<string, unknown>;

function wireId(id: TradeId): number | bigint | string {
  if (typeof id === 'number') return id;
  return /^-?\d+$/.test(id) ? BigInt(id) : id;
}

/** Sets `key` only when `value` is defined (Alpaca leaves such fields out). */
function opt(item: Item, key: string, value: unknown): void {
  if (value !== undefined) item[key] = value;
}

/** The wire item for a domain message. */
export function toWireItem(msg: DataMessage): Item {
  switch (msg.kind) {
    case 'quote': {
      const item: Item = { T: 'q', S: msg.symbol };
      opt(item, 'bx', msg.bidExchange);
      item.bp = msg.bidPrice;
      item.bs = msg.bidSize;
      opt(item, 'ax', msg.askExchange);
      item.ap = msg.askPrice;
      item.as = msg.askSize;
      opt(item, 'c', msg.conditions);
      item.t = msg.time;
      opt(item, 'z', msg.tape);
      return item;
    }
    case 'trade': {
      const item: Item = { T: 't', S: msg.symbol, i: wireId(msg.id) };
      opt(item, 'x', msg.exchange);
      item.p = msg.price;
      item.s = msg.size;
      opt(item, 'c', msg.conditions);
      item.t = msg.time;
      opt(item, 'z', msg.tape);
      opt(item, 'tks', msg.takerSide);
      return item;
    }
    case 'bar':
    case 'dailyBar':
    case 'updatedBar': {
      const T = msg.kind === 'bar' ? 'b' : msg.kind === 'dailyBar' ? 'd' : 'u';
      const item: Item = { T, S: msg.symbol, o: msg.open, h: msg.high, l: msg.low, c: msg.close };
      item.v = msg.volume;
      opt(item, 'n', msg.tradeCount);
      opt(item, 'vw', msg.vwap);
      item.t = msg.time;
      return item;
    }
    case 'status': {
      const item: Item = { T: 's', S: msg.symbol, sc: msg.statusCode, sm: msg.statusMessage };
      item.rc = msg.reasonCode;
      item.rm = msg.reasonMessage;
      item.t = msg.time;
      opt(item, 'z', msg.tape);
      return item;
    }
    case 'luld': {
      const item: Item = { T: 'l', S: msg.symbol, u: msg.limitUp, d: msg.limitDown };
      item.i = msg.indicator;
      item.t = msg.time;
      opt(item, 'z', msg.tape);
      return item;
    }
    case 'correction': {
      const item: Item = { T: 'c', S: msg.symbol };
      opt(item, 'x', msg.exchange);
      item.oi = wireId(msg.originalId);
      item.op = msg.originalPrice;
      item.os = msg.originalSize;
      opt(item, 'oc', msg.originalConditions);
      item.ci = wireId(msg.correctedId);
      item.cp = msg.correctedPrice;
      item.cs = msg.correctedSize;
      opt(item, 'cc', msg.correctedConditions);
      item.t = msg.time;
      opt(item, 'z', msg.tape);
      return item;
    }
    case 'cancelError': {
      const item: Item = { T: 'x', S: msg.symbol, i: wireId(msg.id) };
      opt(item, 'x', msg.exchange);
      item.p = msg.price;
      item.s = msg.size;
      item.a = msg.action;
      item.t = msg.time;
      opt(item, 'z', msg.tape);
      return item;
    }
    case 'imbalance': {
      const item: Item = { T: 'i', S: msg.symbol, p: msg.price, t: msg.time };
      opt(item, 'z', msg.tape);
      return item;
    }
    case 'orderbook': {
      const item: Item = { T: 'o', S: msg.symbol, t: msg.time };
      item.b = msg.bids.map((l) => ({ p: l.price, s: l.size }));
      item.a = msg.asks.map((l) => ({ p: l.price, s: l.size }));
      if (msg.reset) item.r = true;
      return item;
    }
    case 'news': {
      const id =
        /^\d+$/.test(msg.id) && Number.isSafeInteger(Number(msg.id)) ? Number(msg.id) : msg.id;
      return {
        T: 'n',
        id,
        headline: msg.headline,
        summary: msg.summary,
        author: msg.author,
        created_at: msg.createdAt,
        updated_at: msg.updatedAt,
        content: msg.content,
        url: msg.url,
        symbols: [...msg.symbols],
        source: msg.source,
      };
    }
    default: {
      const unreachable: never = msg;
      return unreachable;
    }
  }
}

/** The channel a client subscribes to receive a message of this kind. */
export function channelOf(msg: DataMessage): Channel {
  switch (msg.kind) {
    case 'quote':
      return 'quotes';
    case 'trade':
    case 'correction':
    case 'cancelError':
      return 'trades';
    case 'bar':
      return 'bars';
    case 'dailyBar':
      return 'dailyBars';
    case 'updatedBar':
      return 'updatedBars';
    case 'status':
      return 'statuses';
    case 'luld':
      return 'lulds';
    case 'imbalance':
      return 'imbalances';
    case 'orderbook':
      return 'orderbooks';
    case 'news':
      return 'news';
    default: {
      const unreachable: never = msg;
      return unreachable;
    }
  }
}
