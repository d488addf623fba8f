/**
 * The alerts slice of the renderer's store (renderer/store.ts composes it): the rules main holds,
 * the log of what fired, the symbols whose rules fired (for a mark on the watchlist row) and the
 * latest firing as a sentence for the screen reader's live region.
 *
 * Notifications: in the desktop app main shows them (Electron's Notification, even with every
 * window hidden), so the page never does. In browser mode the page is all there is: it uses the
 * browser's Notification API for rules that ask for one, and asks for the permission once, when
 * the user creates their first rule (a browser only grants it from a user's gesture). Every tab of
 * the app gets the same event: the notification's tag is the firing's number, so the browser shows
 * it once however many tabs are open.
 */
import type {
  AlertFired,
  AlertRuleView,
  CommandInput,
  CommandName,
  CommandOutput,
  MonitorApi,
} from '../shared/api.ts';
import { ALERT_LOG_CAPACITY, DEFAULT_SPREAD_RULE_ID } from '../shared/api.ts';
import type { ApiMode } from './api.ts';

type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

export interface AlertsSlice {
  alertRules: readonly AlertRuleView[];
  /** Newest first, at most ALERT_LOG_CAPACITY. */
  alertLog: readonly AlertFired[];
  /**
   * Symbols with a rule in the fired state now (re-armed ones drop out). The built-in wide-spread
   * rule is left out: it watches every symbol and only logs, a mark per wide quote would be noise.
   */
  firedSymbols: ReadonlySet<string>;
  /** The latest firing as a sentence, for the live region. */
  alertAnnouncement: string | undefined;
  /** Browser mode: the notification permission was asked for (once per page). */
  alertPermissionAsked: boolean;
  createAlert: (input: CommandInput<'alerts:create'>) => Promise<Outcome<AlertRuleView>>;
  /** Edit, pause / resume (`paused`), re-arm (`rearm: true`). */
  updateAlert: (patch: CommandInput<'alerts:update'>) => Promise<Outcome<AlertRuleView>>;
  deleteAlert: (id: string) => Promise<Outcome<readonly AlertRuleView[]>>;
}

type AlertsData = Pick<
  AlertsSlice,
  'alertRules' | 'alertLog' | 'firedSymbols' | 'alertAnnouncement' | 'alertPermissionAsked'
>;

export function alertsInitialData(): AlertsData {
  return {
    alertRules: [],
    alertLog: [],
    firedSymbols: new Set(),
    alertAnnouncement: undefined,
    alertPermissionAsked: false,
  };
}

type Set_ = (patch: Partial<AlertsData> | ((s: AlertsData) => Partial<AlertsData>)) => void;
type Get = () => AlertsData & { readonly mode: ApiMode | undefined };
type Call = <C extends CommandName>(
  what: string,
  command: C,
  input: CommandInput<C>,
  report?: boolean,
) => Promise<Outcome<CommandOutput<C>>>;

/** Symbols of the rules that fired and wait to re-arm (the built-in wide-spread rule aside). */
export function firedSymbolsOf(rules: readonly AlertRuleView[]): Set<string> {
  const out = new Set<string>();
  for (const rule of rules) {
    if (rule.id === DEFAULT_SPREAD_RULE_ID || rule.state !== 'fired') continue;
    for (const symbol of rule.firedSymbols) out.add(symbol);
  }
  return out;
}

function rulesPatch(rules: readonly AlertRuleView[]): Partial<AlertsData> {
  return { alertRules: rules, firedSymbols: firedSymbolsOf(rules) };
}

/** Firings merged by sequence number, newest first, at most the core's capacity. */
export function mergeAlertLog(
  current: readonly AlertFired[],
  incoming: readonly AlertFired[],
): AlertFired[] {
  const bySeq = new Map<number, AlertFired>();
  for (const f of current) bySeq.set(f.seq, f);
  for (const f of incoming) bySeq.set(f.seq, f);
  return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, ALERT_LOG_CAPACITY);
}

/** The browser's Notification API where this page has one (never in the desktop app: main shows them). */
function browserNotification(mode: ApiMode | undefined): typeof Notification | undefined {
  if (mode !== 'browser' || typeof Notification === 'undefined') return undefined;
  return Notification;
}

function notifyInBrowser(mode: ApiMode | undefined, fired: AlertFired): void {
  const N = browserNotification(mode);
  if (!fired.notify || N === undefined || N.permission !== 'granted') return;
  try {
    new N(`Alert: ${fired.symbol}`, {
      body: fired.message,
      tag: `market-monitor-alert-${fired.seq}`,
    });
  } catch {
    // Some browsers only allow notifications from a service worker: the log and the live region
    // still tell the user.
  }
}

/** Subscribes the alert events and loads the rules and the log; returns the unsubscribers. */
export function attachAlerts(
  api: MonitorApi,
  set: Set_,
  get: Get,
  isLive: () => boolean,
): (() => void)[] {
  const offs = [
    api.on('alerts:update', (rules) => set(rulesPatch(rules))),
    api.on('alerts:fired', (fired) => {
      set((s) => ({
        alertLog: mergeAlertLog(s.alertLog, [fired]),
        alertAnnouncement: `Alert: ${fired.message}`,
      }));
      notifyInBrowser(get().mode, fired);
    }),
  ];
  void api.invoke('alerts:list', {}).then(
    (result) => {
      if (isLive() && result.ok) set(rulesPatch(result.value));
    },
    () => undefined,
  );
  void api.invoke('alerts:log', {}).then(
    (result) => {
      if (isLive() && result.ok)
        set((s) => ({ alertLog: mergeAlertLog(s.alertLog, result.value) }));
    },
    () => undefined,
  );
  return offs;
}

export function alertsActions(
  set: Set_,
  get: Get,
  call: Call,
): Pick<AlertsSlice, 'createAlert' | 'updateAlert' | 'deleteAlert'> {
  const refresh = (rule: AlertRuleView): void =>
    set((s) => {
      const at = s.alertRules.findIndex((r) => r.id === rule.id);
      const rules =
        at < 0 ? [...s.alertRules, rule] : s.alertRules.map((r) => (r.id === rule.id ? rule : r));
      return rulesPatch(rules);
    });
  return {
    async createAlert(input) {
      const N = browserNotification(get().mode);
      // Asked once, from the user's click: a browser refuses a prompt that comes from nowhere, and
      // a user who closed the prompt without answering is not asked again on every rule.
      if (
        N !== undefined &&
        !get().alertPermissionAsked &&
        input.notify !== false &&
        N.permission === 'default'
      ) {
        set({ alertPermissionAsked: true });
        void Promise.resolve(N.requestPermission()).catch(() => undefined);
      }
      const out = await call(`Create alert`, 'alerts:create', input, false);
      if (out.ok) refresh(out.value);
      return out;
    },
    async updateAlert(patch) {
      const out = await call('Change alert', 'alerts:update', patch, false);
      if (out.ok) refresh(out.value);
      return out;
    },
    async deleteAlert(id) {
      const out = await call('Delete alert', 'alerts:delete', { id }, false);
      if (out.ok) set(rulesPatch(out.value));
      return out;
    },
  };
}
