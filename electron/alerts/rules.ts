/**
 * What an alert rule means, as pure functions the engine calls per message: when a condition
 * holds, when a fired rule may fire again (the hysteresis band), the handler's name and the
 * sentence a firing carries. Nothing here keeps state or reads a clock.
 *
 * Hysteresis. A rule fires when its condition starts to hold, then stays quiet until the value has
 * come back past the level by a band: a price hovering around 230.00 would otherwise fire on every
 * other trade. Bands (chosen to sit above a tick's noise, below a move a trader cares about):
 * - price: 0.1 % of the level, at least one cent;
 * - change %: a tenth of the bound, at least 0.1 percentage points;
 * - spread: a quarter of the bound (spreads flicker with every quote);
 * - volume: only grows within a day, so it re-arms when it is below the level again (a new day);
 * - no trade: re-arms with the next trade;
 * - halted / resumed: events, not levels. A halted rule fires at the first halt status of a halt
 *   and re-arms at the resume (so it fires once per halt however many halt statuses come, e.g. a
 *   quotation resumption while still halted); a resumed rule the other way round. No quiet time:
 *   each halt is news to a trader, and halts come minutes apart at the least.
 */
import { DEFAULT_SPREAD_RULE_ID, type AlertCondition, type AlertRule } from '../../shared/api.ts';
import { SPREAD_ALERT_NAME } from './spread.ts';

/** The kind of message a rule's handler listens to. */
export function ruleKind(condition: AlertCondition): 'trade' | 'quote' | 'status' {
  if (condition === 'spread-above') return 'quote';
  if (isStatusCondition(condition)) return 'status';
  return 'trade';
}

/** Whether the rule is about trading halts (an event) rather than a level. */
export function isStatusCondition(condition: AlertCondition): condition is 'halted' | 'resumed' {
  return condition === 'halted' || condition === 'resumed';
}

/** Whether the condition holds for `value` (NaN never holds). */
export function holds(condition: AlertCondition, level: number, value: number): boolean {
  switch (condition) {
    case 'price-below':
    case 'change-below':
      return value <= level;
    case 'price-above':
    case 'change-above':
    case 'volume-above':
    case 'no-trade':
      return value >= level;
    case 'spread-above':
      return value > level;
    case 'halted':
    case 'resumed':
      // The engine passes 1 when the rule's event happened; the level is always 0.
      return value > level;
    default: {
      const unreachable: never = condition;
      return unreachable;
    }
  }
}

/** The hysteresis band around `level` (see the module comment). */
export function band(condition: AlertCondition, level: number): number {
  switch (condition) {
    case 'price-above':
    case 'price-below':
      return Math.max(0.01, Math.abs(level) * 0.001);
    case 'change-above':
    case 'change-below':
      return Math.max(0.1, Math.abs(level) * 0.1);
    case 'spread-above':
      return level * 0.25;
    case 'volume-above':
    case 'no-trade':
    case 'halted':
    case 'resumed':
      return 0;
    default: {
      const unreachable: never = condition;
      return unreachable;
    }
  }
}

/** Whether a fired rule's value is back past the level by the band (NaN never re-arms). */
export function rearms(condition: AlertCondition, level: number, value: number): boolean {
  const b = band(condition, level);
  switch (condition) {
    case 'price-below':
    case 'change-below':
      return value > level + b;
    case 'price-above':
    case 'change-above':
    case 'spread-above':
      return value < level - b;
    case 'volume-above':
      return value < level;
    case 'no-trade':
    case 'halted':
    case 'resumed':
      // Re-armed by an event (a trade; the opposite status), never by a value.
      return false;
    default: {
      const unreachable: never = condition;
      return unreachable;
    }
  }
}

/** A number as a trader reads it: prices with cents, volumes grouped. */
export function formatLevel(condition: AlertCondition, value: number): string {
  switch (condition) {
    case 'price-above':
    case 'price-below':
      return value >= 1 ? value.toFixed(2).replace(/\.00$/, '') : String(value);
    case 'change-above':
    case 'change-below':
      return `${value > 0 ? '+' : ''}${round(value, 2)} %`;
    case 'spread-above':
      return `${round(value, 2)} % of mid`;
    case 'volume-above':
      return Math.round(value).toLocaleString('en-US');
    case 'no-trade':
      return `${Math.round(value)} s`;
    case 'halted':
    case 'resumed':
      return '';
    default: {
      const unreachable: never = condition;
      return unreachable;
    }
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const PHRASE: Readonly<Record<AlertCondition, string>> = {
  'price-above': 'price above',
  'price-below': 'price below',
  'change-above': 'change above',
  'change-below': 'change below',
  'spread-above': 'spread above',
  'volume-above': 'volume above',
  'no-trade': 'no trade for',
  halted: 'halted',
  resumed: 'resumed',
};

/** The handler's name in the inspector: `alert: AAPL price above 230`. */
export function ruleName(rule: Pick<AlertRule, 'id' | 'symbol' | 'condition' | 'value'>): string {
  // The wide-spread alert keeps its old name: users and the inspector know it by that.
  if (rule.id === DEFAULT_SPREAD_RULE_ID) return SPREAD_ALERT_NAME;
  const who = rule.symbol === '*' ? 'any symbol' : rule.symbol;
  const level = formatLevel(rule.condition, rule.value);
  return `alert: ${who} ${PHRASE[rule.condition]}${level === '' ? '' : ` ${level}`}`;
}

/** A halt's length as a trader says it: `45 s`, `5 min 12 s`, `1 h 3 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

/**
 * What happened, in a sentence (the log, the notification's body). `detail`: the status's meaning
 * for halted and resumed (e.g. "Trading halt: News pending"); `value` is then the halt's length in
 * seconds for resumed (0 when the halt was not seen).
 */
export function firedMessage(
  rule: Pick<AlertRule, 'condition' | 'value'>,
  symbol: string,
  value: number,
  detail = '',
): string {
  const level = formatLevel(rule.condition, rule.value);
  const seen = formatLevel(rule.condition, value);
  switch (rule.condition) {
    case 'price-above':
      return `${symbol} traded at ${seen}, at or above ${level}`;
    case 'price-below':
      return `${symbol} traded at ${seen}, at or below ${level}`;
    case 'change-above':
      return `${symbol} is ${seen} against the previous close (bound ${level})`;
    case 'change-below':
      return `${symbol} is ${seen} against the previous close (bound ${level})`;
    case 'spread-above':
      return `wide spread on ${symbol}: ${round(value, 2)} % of the mid price (bound ${level})`;
    case 'volume-above':
      return `${symbol} volume ${seen} is over ${level}`;
    case 'no-trade':
      return `${symbol}: no trade for ${seen} during the regular session`;
    case 'halted':
      return `${symbol} halted${detail === '' ? '' : `: ${detail}`}`;
    case 'resumed':
      return (
        `${symbol} resumed trading` +
        (value > 0 ? ` after ${formatDuration(value)} halted` : '') +
        (detail === '' ? '' : ` (${detail})`)
      );
    default: {
      const unreachable: never = rule.condition;
      return unreachable;
    }
  }
}
