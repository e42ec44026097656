// What the signed-in user may see and do on the wall, from the session's
// permissions (GET/POST /api/v1/session, the server's policy table), and
// the login page's words for a refused login. No DOM here: Vitest pins it.
// The server enforces every permission itself; hiding a control only
// spares the user a 403.
import { t, lang, errorText } from './i18n.js';

// CONTROLS: each view or control of the wall and the permissions it needs
// (all of them; anyOf: one of them).
export const CONTROLS = {
  wall: ['map.read'], // the map itself, search, drill-down, locate
  events: ['events.read'], // the events layers, their filter, live incidents
  kpi: ['events.read'],
  live: ['events.read'], // the live stream
  eventMetrics: ['events.read'], // grid colouring by open/overdue events, closure rate
  residents: ['buildings.read'], // a building's households panel
  responder: ['responders.read'], // the nearest-responders view
  dispatch: ['units.status'],
  planDraft: ['plans.draft'], // the planner's tools, preview = submit for approval
  planApply: ['plans.apply'], // open a submitted plan and apply it
  planRevert: ['plans.apply'], // revert a grid to an earlier version
  planHistory: ['plans.read'],
  planner: { anyOf: ['plans.draft', 'plans.apply'] }, // the planner mode button
};

// controlsFor: which controls the permissions allow, as booleans.
export function controlsFor(permissions) {
  const have = new Set(Array.isArray(permissions) ? permissions : []);
  const out = {};
  for (const [k, need] of Object.entries(CONTROLS)) {
    out[k] = Array.isArray(need) ? need.every((p) => have.has(p)) : need.anyOf.some((p) => have.has(p));
  }
  return out;
}

// EVENT_GROUPS: the layer groups that show events (hidden without events.read).
export const EVENT_GROUPS = ['events', 'heat'];

// layerGroupsFor: the layer switcher's groups the controls allow.
export function layerGroupsFor(groups, controls) {
  return groups.filter((g) => controls.events || !EVENT_GROUPS.includes(g));
}

// metricsFor: the colouring choices the controls allow (those from the
// events' figures need events.read).
export function metricsFor(metrics, controls) {
  return metrics.filter((m) => controls.eventMetrics || !['open_events', 'overdue', 'closure_rate'].includes(m.key));
}

// modesFor: the wall's modes the controls allow, in the header's order.
export function modesFor(controls) {
  return ['command', 'responder', 'planner'].filter((m) => m === 'command' ? controls.wall : controls[m]);
}

// defaultMode: where a role starts (a responder in its view, a planner or
// approver in the planner's).
export function defaultMode(session, controls) {
  const modes = modesFor(controls);
  const want = { responder: 'responder', planner: 'planner', approver: 'planner' }[session?.role];
  return want && modes.includes(want) ? want : modes[0] ?? null;
}

// retryAfterSeconds reads a Retry-After header (seconds, or an HTTP date);
// null when absent or unreadable.
export function retryAfterSeconds(header, now = Date.now()) {
  if (header == null || header === '') return null;
  const s = String(header).trim();
  if (/^\d+$/.test(s)) return Number(s);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

// formatWait: seconds as the page's language says them (minutes from 90 s).
export function formatWait(sec, l = lang()) {
  if (sec >= 90) {
    const m = Math.ceil(sec / 60);
    return l === 'zh' ? `${m} 分钟` : `${m} min`;
  }
  return l === 'zh' ? `${sec} 秒` : `${sec} s`;
}

// loginErrorText: what the login page says for a refused login: status
// (0 for a failed connection), the error (an ApiError or null) and the
// Retry-After wait of a 429.
export function loginErrorText({ status, error, retryAfter } = {}, l = lang()) {
  if (status === 401) return t('login.wrong', l);
  if (status === 429) {
    return retryAfter != null ? t('login.throttled.wait', l).replace('{wait}', formatWait(retryAfter, l)) : t('login.throttled', l);
  }
  if (status === 400 || status === 415) return t('login.invalid', l);
  if (!status) return t('err.network', l);
  return errorText(error, l);
}

// roleText: a role's name in the page's language.
export function roleText(role, l = lang()) {
  const key = `role.${role}`;
  const s = t(key, l);
  return s === key ? String(role ?? '') : s;
}

// regionText: a jurisdiction in words: the whole city, or its level and code.
export function regionText(region, l = lang()) {
  if (!region) return t('region.city', l);
  const level = { 6: 'district', 9: 'street', 12: 'community', 15: 'grid' }[String(region).length];
  return level ? `${t(`level.${level}`, l)} ${region}` : String(region);
}

// userLine: the header's "name · role · region [· unit]".
export function userLine(session, l = lang()) {
  if (!session) return '';
  const parts = [session.name, roleText(session.role, l), regionText(session.region, l)];
  if (session.unit_id != null) parts.push(`${t('unit', l)} #${session.unit_id}`);
  return parts.join(' · ');
}
