/**
 * Exchange codes as Alpaca's stock feeds send them (one letter, the SIP's participant ids), and
 * the names a trader knows them by: the detail pane shows the code and names it on hover and to
 * screen readers.
 */
const NAMES: Readonly<Record<string, string>> = {
  A: 'NYSE American',
  B: 'Nasdaq BX',
  C: 'NYSE National',
  D: 'FINRA ADF (off-exchange)',
  E: 'Market Independent',
  H: 'MIAX Pearl',
  I: 'Nasdaq ISE',
  J: 'Cboe EDGA',
  K: 'Cboe EDGX',
  L: 'Long-Term Stock Exchange',
  M: 'NYSE Chicago',
  N: 'New York Stock Exchange',
  P: 'NYSE Arca',
  Q: 'Nasdaq',
  S: 'Nasdaq Small Cap',
  T: 'Nasdaq',
  U: 'MEMX',
  V: 'IEX',
  W: 'Cboe',
  X: 'Nasdaq PSX',
  Y: 'Cboe BYX',
  Z: 'Cboe BZX',
};

/** The exchange's name, or the code itself when unknown; empty when there is none (crypto). */
export function exchangeName(code: string): string {
  return NAMES[code] ?? code;
}
