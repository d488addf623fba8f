/**
 * The detail chart: candles and volume of one symbol in four ranges (1D of 1-minute bars, 5D of
 * 5-minute, 1M of hourly, 1Y of daily) from `market:bars`, drawn by TradingView's
 * lightweight-charts (Apache-2.0). The last candle moves live: each redraw of the tape's views
 * (tape-pace.ts, with the Times & Sales rows) folds the new trades into it (the tape carries every
 * trade of the watched symbol, so the candle's high, low and volume are exact, which the conflated
 * quote board could not give).
 * The previous close is a dashed price line, the LULD band (limit up, limit down) a dotted pair;
 * the crosshair's values are written into the legend.
 *
 * Under the app's CSP (`style-src 'self'`): the library draws on canvases and sets element styles
 * through the CSSOM, which the policy allows, but its attribution logo injects a <style> element,
 * which it refuses; so the logo is off and the pane credits TradingView in a plain link instead.
 * Colours come from the theme's CSS variables and follow a theme change.
 */
import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  LineStyle,
  createChart,
} from 'lightweight-charts';
import type {
  CandlestickData,
  HistogramData,
  IChartApi,
  IPriceLine,
  ISeriesApi,
  MouseEventParams,
  Time,
  UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { ChartBar, LuldBandView } from '../../shared/api.ts';
import {
  CHART_RANGES,
  chartTime,
  foldTrade,
  lastSessions,
  risingTimes,
  type ChartRange,
} from '../model/chart.ts';
import { formatPrice, formatSize } from '../model/format.ts';
import { useMonitor } from '../store.ts';
import { onTapeRedraw } from '../tape-pace.ts';

interface Palette {
  readonly bg: string;
  readonly text: string;
  readonly line: string;
  readonly up: string;
  readonly down: string;
  readonly muted: string;
}

function palette(): Palette {
  const css = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string): string =>
    css.getPropertyValue(name).trim() || fallback;
  return {
    bg: read('--panel', '#161b22'),
    text: read('--text', '#d7dde4'),
    line: read('--line', '#262d36'),
    up: read('--up', '#3fb950'),
    down: read('--down', '#f85149'),
    muted: read('--muted', '#8a96a3'),
  };
}

/** `#rrggbb` with an alpha; other colour forms as they are. */
function withAlpha(color: string, alpha: string): string {
  return /^#[0-9a-f]{6}$/i.test(color) ? `${color}${alpha}` : color;
}

function candle(bar: ChartBar): CandlestickData<Time> {
  return {
    time: chartTime(bar.time) as UTCTimestamp,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
  };
}

function volumeBar(bar: ChartBar, colors: Palette): HistogramData<Time> {
  return {
    time: chartTime(bar.time) as UTCTimestamp,
    value: bar.volume,
    color: withAlpha(bar.close >= bar.open ? colors.up : colors.down, '66'),
  };
}

function legendText(symbol: string, range: ChartRange, bar: ChartBar | undefined): string {
  if (bar === undefined) return `${symbol} · ${range.id}`;
  return (
    `${symbol} · ${range.id}  O ${formatPrice(bar.open)}  H ${formatPrice(bar.high)}` +
    `  L ${formatPrice(bar.low)}  C ${formatPrice(bar.close)}  V ${formatSize(bar.volume)}`
  );
}

/** What the chart shows for one symbol and range; `key` names which (see `chartKey`). */
type Load =
  | { readonly key: string; readonly state: 'loading' }
  | { readonly key: string; readonly state: 'ready'; readonly bars: number }
  | { readonly key: string; readonly state: 'failed'; readonly message: string };

const chartKey = (symbol: string, range: ChartRange): string => `${symbol} ${range.id}`;

/** The reference lines the chart should carry: the previous close and the LULD band. */
interface Lines {
  readonly prevClose: number | null | undefined;
  readonly luld: LuldBandView | undefined;
}

interface ChartHandle {
  readonly api: IChartApi;
  readonly candles: ISeriesApi<'Candlestick'>;
  readonly volume: ISeriesApi<'Histogram'>;
  colors: Palette;
  priceLine: IPriceLine | undefined;
  bandLines: IPriceLine[];
  /** The lines as last drawn (a string of their prices), so an unchanged set is not redrawn. */
  drawnLines: string | undefined;
  /** The lines the symbol shown now should carry, kept while its bars load. */
  wanted: Lines;
  /** Whether the series hold the bars of the symbol and range shown now. */
  ready: boolean;
}

/**
 * Makes the chart's reference lines match `c.wanted`. Only while the series hold the shown
 * symbol's bars: a symbol's lines go on with its bars, in the same task, so that a change of
 * symbol costs the chart one redraw rather than one for the bars and one per line.
 */
function drawLines(c: ChartHandle): void {
  if (!c.ready) return;
  const { prevClose, luld } = c.wanted;
  const close = typeof prevClose === 'number' && Number.isFinite(prevClose) ? prevClose : undefined;
  const drawn = `${close ?? ''}|${luld?.limitUp ?? ''}|${luld?.limitDown ?? ''}`;
  if (drawn === c.drawnLines) return;
  c.drawnLines = drawn;
  if (c.priceLine !== undefined) c.candles.removePriceLine(c.priceLine);
  c.priceLine =
    close === undefined
      ? undefined
      : c.candles.createPriceLine({
          price: close,
          color: c.colors.muted,
          lineWidth: 1,
          lineStyle: LineStyle.Dashed,
          axisLabelVisible: true,
          title: 'prev close',
        });
  // The LULD band as a pair of lines: a trade at either one pauses trading.
  for (const line of c.bandLines.splice(0)) c.candles.removePriceLine(line);
  if (luld === undefined) return;
  for (const [price, title] of [
    [luld.limitUp, 'limit up'],
    [luld.limitDown, 'limit down'],
  ] as const) {
    c.bandLines.push(
      c.candles.createPriceLine({
        price,
        color: c.colors.down,
        lineWidth: 1,
        lineStyle: LineStyle.Dotted,
        axisLabelVisible: true,
        title,
      }),
    );
  }
}

export function DetailChart({ symbol }: { readonly symbol: string }): ReactNode {
  const [rangeId, setRangeId] = useState<ChartRange['id']>('1D');
  const range = CHART_RANGES.find((r) => r.id === rangeId) ?? CHART_RANGES[0]!;
  const key = chartKey(symbol, range);
  const [loaded, setLoad] = useState<Load>({ key, state: 'loading' });
  // A load of another symbol or range is this one's "loading": so the first render after a
  // change already hides the previous symbol's candles, without a render of its own to say so.
  const load: Load = loaded.key === key ? loaded : { key, state: 'loading' };
  // Back to the symbol and range whose state is still kept (A, then B, then A again before B's
  // bars came): A's bars are asked for again, and until they come nothing folds into its last
  // candle or moves its lines, so it is loading too. Said during the render, which React runs
  // again before committing: set in the bars effect, A's old "ready" (or failure message) was
  // committed and painted for a frame first. A normal change finds another key kept: one call
  // of this function more, no commit.
  const [shownKey, setShownKey] = useState(key);
  if (shownKey !== key) {
    setShownKey(key);
    if (loaded.key === key && loaded.state !== 'loading') setLoad({ key, state: 'loading' });
  }
  const box = useRef<HTMLDivElement>(null);
  const legend = useRef<HTMLParagraphElement>(null);
  const theme = useMonitor((s) => s.settings?.theme);
  const prevClose = useMonitor((s) => (s.tape.symbol === symbol ? s.tape.day?.prevClose : null));
  const luld = useMonitor((s) => s.tradingStatus.get(symbol)?.luld);

  const chart = useRef<ChartHandle>(undefined);

  // The chart itself: made once per mount, removed on unmount.
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const colors = palette();
    const api = createChart(el, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: colors.bg },
        textColor: colors.text,
        fontSize: 11,
        attributionLogo: false,
      },
      grid: { vertLines: { color: colors.line }, horzLines: { color: colors.line } },
      rightPriceScale: { borderColor: colors.line },
      timeScale: { borderColor: colors.line, timeVisible: true, secondsVisible: false },
      crosshair: { mode: CrosshairMode.Normal },
    });
    const candles = api.addSeries(CandlestickSeries, {
      upColor: colors.up,
      downColor: colors.down,
      borderVisible: false,
      wickUpColor: colors.up,
      wickDownColor: colors.down,
    });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.28 } });
    const volume = api.addSeries(HistogramSeries, {
      priceFormat: { type: 'volume' },
      priceScaleId: 'volume',
      lastValueVisible: false,
      priceLineVisible: false,
    });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });
    chart.current = {
      api,
      candles,
      volume,
      colors,
      priceLine: undefined,
      bandLines: [],
      drawnLines: undefined,
      wanted: { prevClose: undefined, luld: undefined },
      ready: false,
    };
    return () => {
      chart.current = undefined;
      api.remove();
    };
  }, []);

  // Theme: colours again once the page's variables have switched (the App sets them in its own
  // effect, which runs after this one).
  useEffect(() => {
    const frame = requestAnimationFrame(() => {
      const c = chart.current;
      if (c === undefined) return;
      const colors = palette();
      c.colors = colors;
      c.api.applyOptions({
        layout: { background: { type: ColorType.Solid, color: colors.bg }, textColor: colors.text },
        grid: { vertLines: { color: colors.line }, horzLines: { color: colors.line } },
        rightPriceScale: { borderColor: colors.line },
        timeScale: { borderColor: colors.line },
      });
      c.candles.applyOptions({
        upColor: colors.up,
        downColor: colors.down,
        wickUpColor: colors.up,
        wickDownColor: colors.down,
      });
      c.priceLine?.applyOptions({ color: colors.muted });
      for (const line of c.bandLines) line.applyOptions({ color: colors.down });
    });
    return () => cancelAnimationFrame(frame);
  }, [theme]);

  // Bars for the symbol and range, then live folding of the tape's trades until either changes.
  // Declared before the lines' effect: a change of symbol marks the series stale first, so the
  // new symbol's lines wait for its bars.
  useEffect(() => {
    const c = chart.current;
    if (c === undefined) return;
    let live = true;
    let bars: ChartBar[] = [];
    let offTape: (() => void) | undefined;
    const requestedAt = Date.now();
    // The previous symbol's bars stay in the series, hidden (`data-state`), until these arrive:
    // clearing them would cost a redraw that nobody sees.
    c.ready = false;
    const writeLegend = (bar: ChartBar | undefined): void => {
      if (legend.current !== null) legend.current.textContent = legendText(symbol, range, bar);
    };
    writeLegend(undefined);

    const onCrosshair = (param: MouseEventParams<Time>): void => {
      const point = param.seriesData.get(c.candles) as CandlestickData<Time> | undefined;
      const vol = param.seriesData.get(c.volume) as HistogramData<Time> | undefined;
      // Until this symbol's bars are in, the series hold the previous one's: a crosshair moved
      // in place (the library does on a resize) would read them out under this symbol's name.
      if (!c.ready || point === undefined || param.time === undefined) {
        writeLegend(bars.at(-1));
        return;
      }
      writeLegend({
        time: 0,
        open: point.open,
        high: point.high,
        low: point.low,
        close: point.close,
        volume: vol?.value ?? NaN,
      });
    };
    c.api.subscribeCrosshairMove(onCrosshair);

    const foldNew = (): void => {
      const state = useMonitor.getState();
      if (!live || state.tape.symbol !== symbol) return;
      const fresh = state.tape.since(seen);
      seen = state.tape.seq;
      let changed: ChartBar | undefined;
      for (const trade of fresh) {
        // Trades from before the bars were asked for are in them already.
        if (trade.time < requestedAt) continue;
        const last = bars.at(-1);
        const next = foldTrade(last, trade, range.timeframe);
        if (next === undefined) continue;
        if (last !== undefined && next.time === last.time) {
          bars[bars.length - 1] = next;
        } else {
          // A repeated wall-clock hour (daylight saving ends) cannot go on the axis.
          if (last !== undefined && chartTime(next.time) <= chartTime(last.time)) continue;
          // The finished candle gets what this pass added to it before the next one starts.
          if (changed !== undefined && last !== undefined) {
            c.candles.update(candle(last));
            c.volume.update(volumeBar(last, c.colors));
          }
          bars.push(next);
        }
        changed = next;
      }
      if (changed !== undefined) {
        c.candles.update(candle(changed));
        c.volume.update(volumeBar(changed, c.colors));
        writeLegend(changed);
      }
    };
    let seen = useMonitor.getState().tape.seq;

    void useMonitor
      .getState()
      .loadBars({ symbol, timeframe: range.timeframe, start: requestedAt - range.lookbackMs })
      .then((out) => {
        if (!live) return;
        if (!out.ok) {
          // Shown empty under the message: the previous symbol's candles must not stay.
          c.candles.setData([]);
          c.volume.setData([]);
          setLoad({ key, state: 'failed', message: out.message });
          return;
        }
        bars = risingTimes(lastSessions(out.value, range.sessions));
        c.candles.setData(bars.map(candle));
        c.volume.setData(bars.map((b) => volumeBar(b, c.colors)));
        c.api.timeScale().fitContent();
        c.ready = true;
        drawLines(c);
        writeLegend(bars.at(-1));
        setLoad({ key, state: 'ready', bars: bars.length });
        foldNew();
        // On the tape's clock: the live candle moves in the frame the Times & Sales rows do.
        offTape = onTapeRedraw(foldNew);
      });
    return () => {
      live = false;
      offTape?.();
      c.api.unsubscribeCrosshairMove(onCrosshair);
    };
  }, [symbol, range, key]);

  // The previous close as a dashed line and the LULD band as a dotted pair: drawn now when the
  // bars are in, else with them.
  useEffect(() => {
    const c = chart.current;
    if (c === undefined) return;
    c.wanted = { prevClose, luld };
    drawLines(c);
  }, [prevClose, luld]);

  return (
    <div className="detail-chart">
      <div className="chart-tools">
        <div className="chart-ranges" role="group" aria-label="Chart range">
          {CHART_RANGES.map((r) => (
            <button
              key={r.id}
              type="button"
              className="quiet"
              aria-pressed={r.id === rangeId}
              aria-label={r.label}
              title={r.label}
              onClick={() => setRangeId(r.id)}
            >
              {r.id}
            </button>
          ))}
        </div>
        <span className="chart-status" role="status">
          {load.state === 'loading'
            ? 'Loading…'
            : load.state === 'failed'
              ? load.message
              : load.bars === 0
                ? 'No bars in this range'
                : ''}
        </span>
      </div>
      <p className="chart-legend" ref={legend} aria-live="off" />
      <div
        className="chart-box"
        ref={box}
        role="img"
        aria-label={`Candlestick chart of ${symbol}, ${range.label}; the legend above gives the values under the crosshair`}
        data-bars={load.state === 'ready' ? load.bars : undefined}
        data-state={load.state}
      />
      <p className="chart-credit">
        Charts by{' '}
        <a href="https://www.tradingview.com/" target="_blank" rel="noreferrer">
          TradingView
        </a>
      </p>
    </div>
  );
}
