// A small i18n module: Chinese by default, English on request (?lang=en or
// the switch, remembered in localStorage). Missing keys fall back to
// Chinese, then to the key itself, so a gap never shows "undefined".

export const dict = {
  zh: {
    title: '网格化社会治理 · 一张图',
    layers: '图层',
    'layer.people': '人',
    'layer.houses': '房',
    'layer.land': '地',
    'layer.events': '事',
    'layer.objects': '物',
    'layer.posts': '站点/力量',
    'layer.grids': '网格',
    metric: '网格着色',
    'metric.none': '不着色',
    'metric.households': '户数',
    'metric.residents': '人口',
    'metric.tagged': '重点人员',
    'metric.open_events': '未结事件',
    'metric.overdue': '超期事件',
    'metric.closure_rate': '结案率',
    legend: '图例',
    'legend.nodata': '无数据',
    'legend.zoomin': '放大查看网格',
    search: '搜索名称、编码或地址',
    'search.none': '无结果',
    kpi: '今日指标',
    'kpi.reported': '今日上报',
    'kpi.closed': '今日结案',
    'kpi.closure_rate': '结案率',
    'kpi.overdue': '超期',
    'kpi.open': '在办',
    'kpi.by_tier': '今日分级',
    'tier.grid': '网格',
    'tier.street': '街道',
    'tier.district': '区县',
    'kind.district': '区县',
    'kind.street': '街道',
    'kind.community': '社区',
    'kind.grid': '网格',
    'kind.post': '站点',
    'kind.building': '房屋',
    'kpi.unavailable': '指标服务暂不可用',
    'live.connecting': '连接中',
    'live.live': '实时',
    'live.stale': '数据已过时',
    'live.off': '无实时流',
    'mode.command': '指挥',
    'mode.responder': '调度',
    'responder.hint': '点击地图查找最近的站点和力量',
    'responder.title': '最近的力量',
    'responder.none': '附近没有力量',
    'responder.event': '事件',
    'responder.dispatch': '派遣',
    'responder.dispatched': '已派遣',
    'kind.all': '全部类型',
    'status.all': '全部状态',
    'status.available': '可用',
    'status.en_route': '出动中',
    'status.on_scene': '在现场',
    'status.off_duty': '离岗',
    'kind.grid_worker': '网格员',
    'kind.patrol': '巡逻',
    'kind.engine': '消防车',
    'kind.ambulance': '救护车',
    'events.window': '事件时间',
    'events.all': '全部',
    'events.today': '今日',
    'events.7': '近7天',
    'events.30': '近30天',
    'events.open': '仅未结',
    'layer.heat': '事件热力',
    close: '关闭',
    level: '层级',
    'level.district': '区县',
    'level.street': '街道/乡镇',
    'level.community': '社区/村',
    'level.grid': '网格',
    'level.building': '房屋',
    code: '编码',
    name: '名称',
    households: '户数',
    residents: '人口',
    tagged: '重点人员',
    floors: '层数',
    built_year: '建成年份',
    use: '用途',
    worker: '网格员',
    open_events: '未结事件',
    buildings: '房屋',
    grids: '网格数',
    overdue: '超期',
    events_30d: '近30天事件',
    closure_rate: '结案率',
    avg_handling_minutes: '平均处置(分钟)',
    posts: '站点',
    units: '力量',
    objects: '部件',
    loading: '加载中…',
    error: '出错了',
    'kind.police': '派出所/警力',
    'kind.fire': '消防',
    'kind.medical': '医疗',
    'kind.community': '社区',
    'kind.micro_fire': '微型消防站',
    'type.post': '站点',
    'type.unit': '力量',
    meters: '米',
    km: '公里',
    lang: 'English',
  },
  en: {
    title: 'Grid governance · one map',
    layers: 'Layers',
    'layer.people': 'People',
    'layer.houses': 'Buildings',
    'layer.land': 'Land',
    'layer.events': 'Events',
    'layer.objects': 'Components',
    'layer.posts': 'Posts/units',
    'layer.grids': 'Grids',
    metric: 'Colour grids by',
    'metric.none': 'none',
    'metric.households': 'households',
    'metric.residents': 'residents',
    'metric.tagged': 'tagged residents',
    'metric.open_events': 'open events',
    'metric.overdue': 'overdue events',
    'metric.closure_rate': 'closure rate',
    legend: 'Legend',
    'legend.nodata': 'no data',
    'legend.zoomin': 'zoom in to see grids',
    search: 'Search name, code or address',
    'search.none': 'no results',
    kpi: 'Today',
    'kpi.reported': 'reported',
    'kpi.closed': 'closed',
    'kpi.closure_rate': 'closure rate',
    'kpi.overdue': 'overdue',
    'kpi.open': 'open',
    'kpi.by_tier': 'today by tier',
    'tier.grid': 'grid',
    'tier.street': 'street',
    'tier.district': 'district',
    'kind.district': 'district',
    'kind.street': 'street',
    'kind.community': 'community',
    'kind.grid': 'grid',
    'kind.post': 'post',
    'kind.building': 'building',
    'kpi.unavailable': 'KPI service unavailable',
    'live.connecting': 'connecting',
    'live.live': 'live',
    'live.stale': 'stale',
    'live.off': 'no live stream',
    'mode.command': 'Command',
    'mode.responder': 'Responders',
    'responder.hint': 'Click the map to find the nearest posts and units',
    'responder.title': 'Nearest responders',
    'responder.none': 'no responders nearby',
    'responder.event': 'event',
    'responder.dispatch': 'Dispatch',
    'responder.dispatched': 'dispatched',
    'kind.all': 'all kinds',
    'status.all': 'any status',
    'status.available': 'available',
    'status.en_route': 'en route',
    'status.on_scene': 'on scene',
    'status.off_duty': 'off duty',
    'kind.grid_worker': 'grid worker',
    'kind.patrol': 'patrol',
    'kind.engine': 'fire engine',
    'kind.ambulance': 'ambulance',
    'events.window': 'Events',
    'events.all': 'all time',
    'events.today': 'today',
    'events.7': '7 days',
    'events.30': '30 days',
    'events.open': 'open only',
    'layer.heat': 'Event heat',
    close: 'Close',
    level: 'Level',
    'level.district': 'district',
    'level.street': 'street/town',
    'level.community': 'community/village',
    'level.grid': 'grid',
    'level.building': 'building',
    code: 'Code',
    name: 'Name',
    households: 'Households',
    residents: 'Residents',
    tagged: 'Tagged',
    floors: 'Floors',
    built_year: 'Built',
    use: 'Use',
    worker: 'Grid worker',
    open_events: 'Open events',
    buildings: 'Buildings',
    grids: 'Grids',
    overdue: 'Overdue',
    events_30d: 'Events (30 days)',
    closure_rate: 'Closure rate',
    avg_handling_minutes: 'Avg handling (min)',
    posts: 'Posts',
    units: 'Units',
    objects: 'Components',
    loading: 'loading…',
    error: 'error',
    'kind.police': 'police',
    'kind.fire': 'fire',
    'kind.medical': 'medical',
    'kind.community': 'community',
    'kind.micro_fire': 'micro fire station',
    'type.post': 'post',
    'type.unit': 'unit',
    meters: 'm',
    km: 'km',
    lang: '中文',
  },
};

export const languages = Object.keys(dict);

let current = 'zh';
const listeners = new Set();

export function lang() {
  return current;
}

// pickLang chooses from ?lang=, then what was stored, then Chinese.
export function pickLang(search = '', stored = null) {
  const q = new URLSearchParams(search).get('lang');
  if (q && dict[q]) return q;
  if (stored && dict[stored]) return stored;
  return 'zh';
}

export function setLang(l) {
  if (!dict[l] || l === current) return;
  current = l;
  for (const f of listeners) f(l);
}

export function onLang(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function t(key, l = current) {
  return dict[l]?.[key] ?? dict.zh[key] ?? key;
}

// formatDistance: metres below 1 km, else km with one decimal.
export function formatDistance(m, l = current) {
  if (!Number.isFinite(m)) return '–';
  if (m < 1000) return `${Math.round(m)} ${t('meters', l)}`;
  return `${(m / 1000).toFixed(1)} ${t('km', l)}`;
}

export function formatNumber(n, l = current) {
  if (n == null || Number.isNaN(n)) return '–';
  return Number(n).toLocaleString(l === 'zh' ? 'zh-CN' : 'en-US');
}

// applyI18n fills every [data-i18n] element's text (or the attribute
// named by data-i18n-attr) in root.
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const text = t(el.dataset.i18n);
    if (el.dataset.i18nAttr) el.setAttribute(el.dataset.i18nAttr, text);
    else el.textContent = text;
  }
}
