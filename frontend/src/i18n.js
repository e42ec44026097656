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
    'legend.all': '全部',
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
    'kpi.updated': '更新于 {time}',
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
    'mode.planner': '规划',
    'plan.title': '网格规划',
    'plan.pick': '点击一个网格开始规划',
    'plan.zoomin': '放大到地块级别（14级以上）再选择网格',
    'plan.tool.reassign': '调整地块',
    'plan.tool.merge': '合并',
    'plan.tool.split': '拆分',
    'plan.tool.draw': '重绘',
    'plan.hint.draw': '单击依次添加边界点，双击闭合；网格取边界内的范围',
    'plan.hint.reassign': '点击相邻网格的地块划入本网格；选择移出目标后点击本网格地块划出',
    'plan.hint.merge': '点击要并入本网格的相邻网格',
    'plan.hint.split': '单击添加折点，双击结束画线',
    'plan.picked': '已选地块',
    'plan.out': '移出至',
    'plan.out.need': '先选择移出的目标网格',
    'plan.merge.with': '并入网格',
    'plan.points': '折点',
    'plan.by': '规划人',
    'plan.by.default': '规划员',
    'plan.reason': '调整原因',
    'plan.preview': '预览',
    'plan.clear': '清除',
    'plan.other': '换网格',
    'plan.preview.title': '预览方案',
    'plan.rejected': '方案未通过校验',
    'plan.col.grid': '网格',
    'plan.col.households': '户数 前→后',
    'plan.col.band': '目标区间',
    'plan.action.new': '新建',
    'plan.action.retired': '撤销',
    'plan.action.changed': '调整',
    'plan.place.below': '偏少',
    'plan.place.within': '达标',
    'plan.place.above': '偏多',
    'plan.moves': '随之移动',
    'plan.move.buildings': '房屋',
    'plan.move.households': '户',
    'plan.move.residents': '人',
    'plan.move.objects': '部件',
    'plan.move.open_events': '未结事件',
    'plan.move.posts': '站点',
    'plan.move.none': '无',
    'plan.worker': '网格员',
    'plan.apply': '应用方案',
    'plan.applied': '方案 #{id} 已应用，新边界已上图',
    'plan.stale': '网格已被他人修改，地图已刷新，请重新预览',
    'plan.revert': '恢复',
    'plan.reverted': '已恢复到版本 v{v}',
    'plan.history': '历史版本',
    'plan.current': '当前',
    'plan.unplanned': '初始边界，尚未经规划调整',
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
    'err.invalid': '请求无效',
    'err.not_found': '未找到',
    'err.conflict': '与当前状态冲突',
    'err.stale': '数据已被他人修改，请刷新后重试',
    'err.forbidden': '无权执行此操作',
    'err.unavailable': '服务暂不可用，请稍后再试',
    'err.too_large': '提交的内容过大',
    'err.illegal_transition': '当前状态下不允许此操作',
    'err.plan_rejected': '方案未通过校验',
    'err.internal': '服务器内部错误',
    'err.network': '网络连接失败',
    'err.request': '请求编号',
    'rule.empty': '网格将不再包含任何地块（请改用合并）',
    'rule.empty_plan': '方案中没有任何操作',
    'rule.code': '不是有效的15位网格编码',
    'rule.community': '不在同一社区内（一个方案只能调整一个社区）',
    'rule.shape': '操作不完整或格式有误',
    'rule.coordinates': '坐标无效或超出范围',
    'rule.self_intersection': '所画的线自相交',
    'rule.retired_not_empty': '网格已并入其他网格，但仍有地块未移出',
    'rule.disconnected': '网格将被分割成不相连的多块',
    'rule.hole': '网格内将出现空洞',
    'rule.min_area': '网格面积低于下限',
    'rule.outside_community': '网格将超出所属社区',
    'rule.unknown_grid': '不是本社区的网格',
    'rule.retired': '网格已撤销或已在本方案中被合并',
    'rule.not_adjacent': '两个网格不相邻',
    'rule.no_cut': '分割线没有把网格一分为二（请从一侧边界画到另一侧）',
    'rule.many_cuts': '分割线把网格切成了两块以上（只能穿过网格一次）',
    'rule.codes': '本社区的网格编码已用完',
    'rule.no_overlap': '新边界与网格没有重叠',
    'rule.no_neighbour': '新边界外的部分地块没有相邻网格可以接收',
    'rule.unknown_parcel': '地块不存在',
    'rule.union_changed': '社区内地块的总面积将发生变化',
    'rule.no_parcels': '网格没有地块，无法调整（请导入其地块，或重新导入该网格）',
    'kind.police': '派出所/警力',
    'kind.fire': '消防',
    'kind.medical': '医疗',
    'kind.community': '社区',
    'kind.micro_fire': '微型消防站',
    'type.post': '站点',
    'type.unit': '力量',
    meters: '米',
    km: '公里',
    'login.title': '登录',
    'login.name': '用户名',
    'login.password': '密码',
    'login.submit': '登录',
    'login.busy': '正在登录…',
    'login.wrong': '用户名或密码错误',
    'login.throttled': '登录失败次数过多，请稍后再试',
    'login.throttled.wait': '登录失败次数过多，请 {wait}后再试',
    'login.invalid': '请输入用户名和密码',
    'login.expired': '登录已过期，请重新登录',
    'login.nowall': '您的角色无权查看地图',
    logout: '退出',
    'role.admin': '管理员',
    'role.commander': '指挥长',
    'role.grid_worker': '网格员',
    'role.planner': '规划员',
    'role.approver': '审批人',
    'role.responder': '处置力量',
    'role.auditor': '审计员',
    'role.viewer': '观察员',
    'role.gateway': '接入网关',
    'role.sensor': '传感器',
    'region.city': '全市',
    unit: '力量',
    'err.unauthorized': '未登录或登录已过期',
    'err.too_many_attempts': '尝试次数过多，请稍后再试',
    'err.forbidden_origin': '请求来源不被允许',
    'plan.submit': '预览并提交审批',
    'plan.submitted': '方案 #{id} 已提交，待上级审批人应用',
    'plan.open': '打开方案',
    'plan.open.id': '方案编号',
    'plan.open.hint': '输入规划员提交的方案编号，核对后应用',
    'plan.status.applied': '该方案已应用',
    'plan.status.draft': '待审批',
    'plan.by.who': '提交人',
    'myunit.title': '本单位派单事件',
    'myunit.none': '暂无派给本单位的事件',
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
    'legend.all': 'all',
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
    'kpi.updated': 'updated {time}',
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
    'mode.planner': 'Planner',
    'plan.title': 'Grid planning',
    'plan.pick': 'Click a grid to start planning',
    'plan.zoomin': 'Zoom in to parcels (z14+) to pick a grid',
    'plan.tool.reassign': 'Parcels',
    'plan.tool.merge': 'Merge',
    'plan.tool.split': 'Split',
    'plan.tool.draw': 'Redraw',
    'plan.hint.draw': 'Click the new outline point by point, double-click to close it: the grid takes the area inside',
    'plan.hint.reassign': "Click a neighbour's parcels to move them in; choose where to, then click the grid's own parcels to move them out",
    'plan.hint.merge': 'Click the neighbour that joins this grid',
    'plan.hint.split': 'Click to add points, double-click to finish the line',
    'plan.picked': 'Parcels picked',
    'plan.out': 'Move out to',
    'plan.out.need': 'Choose the grid to move parcels out to first',
    'plan.merge.with': 'Merging',
    'plan.points': 'Points',
    'plan.by': 'Planner',
    'plan.by.default': 'planner',
    'plan.reason': 'Reason',
    'plan.preview': 'Preview',
    'plan.clear': 'Clear',
    'plan.other': 'Other grid',
    'plan.preview.title': 'Preview of plan',
    'plan.rejected': 'The plan is refused',
    'plan.col.grid': 'Grid',
    'plan.col.households': 'Households before→after',
    'plan.col.band': 'Target band',
    'plan.action.new': 'new',
    'plan.action.retired': 'retired',
    'plan.action.changed': 'changed',
    'plan.place.below': 'below',
    'plan.place.within': 'within',
    'plan.place.above': 'above',
    'plan.moves': 'What moves',
    'plan.move.buildings': 'buildings',
    'plan.move.households': 'households',
    'plan.move.residents': 'residents',
    'plan.move.objects': 'objects',
    'plan.move.open_events': 'open events',
    'plan.move.posts': 'posts',
    'plan.move.none': 'nothing',
    'plan.worker': 'Grid worker',
    'plan.apply': 'Apply',
    'plan.applied': 'Plan #{id} applied: the new boundary is on the map',
    'plan.stale': 'These grids changed meanwhile: the map is refreshed, preview again',
    'plan.revert': 'Revert',
    'plan.reverted': 'Reverted to version v{v}',
    'plan.history': 'History',
    'plan.current': 'current',
    'plan.unplanned': 'initial outline, not changed by any plan yet',
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
    'err.invalid': 'invalid request',
    'err.not_found': 'not found',
    'err.conflict': 'conflicts with the current state',
    'err.stale': 'changed by someone else meanwhile: refresh and retry',
    'err.forbidden': 'not allowed',
    'err.unavailable': 'service temporarily unavailable, try again later',
    'err.too_large': 'request too large',
    'err.illegal_transition': 'not allowed in the current status',
    'err.plan_rejected': 'the plan is refused',
    'err.internal': 'internal server error',
    'err.network': 'network error',
    'err.request': 'request',
    'rule.empty': 'the grid would be left without parcels (merge it instead)',
    'rule.empty_plan': 'the plan has no operations',
    'rule.code': 'not a 15-digit grid code',
    'rule.community': 'outside the community being edited (a plan edits one community)',
    'rule.shape': 'incomplete or malformed operation',
    'rule.coordinates': 'invalid or out-of-range coordinates',
    'rule.self_intersection': 'the drawn line crosses itself',
    'rule.retired_not_empty': 'merged away but still holds parcels',
    'rule.disconnected': 'the grid would fall apart into disconnected pieces',
    'rule.hole': 'the grid would get a hole',
    'rule.min_area': 'the grid would be smaller than the minimum area',
    'rule.outside_community': 'the grid would reach outside its community',
    'rule.unknown_grid': 'not a grid of this community',
    'rule.retired': 'the grid is retired or merged away earlier in this plan',
    'rule.not_adjacent': 'the two grids are not adjacent',
    'rule.no_cut': 'the line does not cut the grid in two (draw it from edge to edge)',
    'rule.many_cuts': 'the line cuts the grid into more than two pieces (cross it once)',
    'rule.codes': 'the community has no grid codes left',
    'rule.no_overlap': 'the new boundary does not overlap the grid',
    'rule.no_neighbour': 'some parcels outside the new boundary have no neighbouring grid to go to',
    'rule.unknown_parcel': 'the parcel does not exist',
    'rule.union_changed': "the community's total parcel area would change",
    'rule.no_parcels': 'the grid has no parcels, so it cannot be changed (import its parcels, or import the grid again)',
    'kind.police': 'police',
    'kind.fire': 'fire',
    'kind.medical': 'medical',
    'kind.community': 'community',
    'kind.micro_fire': 'micro fire station',
    'type.post': 'post',
    'type.unit': 'unit',
    meters: 'm',
    km: 'km',
    'login.title': 'Sign in',
    'login.name': 'User name',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.busy': 'signing in…',
    'login.wrong': 'wrong user name or password',
    'login.throttled': 'too many failed sign-ins: try again later',
    'login.throttled.wait': 'too many failed sign-ins: try again in {wait}',
    'login.invalid': 'enter your user name and password',
    'login.expired': 'your session has expired: sign in again',
    'login.nowall': 'your role may not view the map',
    logout: 'Sign out',
    'role.admin': 'administrator',
    'role.commander': 'commander',
    'role.grid_worker': 'grid worker',
    'role.planner': 'planner',
    'role.approver': 'approver',
    'role.responder': 'responder',
    'role.auditor': 'auditor',
    'role.viewer': 'viewer',
    'role.gateway': 'gateway',
    'role.sensor': 'sensor',
    'region.city': 'whole city',
    unit: 'unit',
    'err.unauthorized': 'not signed in, or the session expired',
    'err.too_many_attempts': 'too many attempts: try again later',
    'err.forbidden_origin': 'request from another site refused',
    'plan.submit': 'Preview and submit for approval',
    'plan.submitted': 'Plan #{id} submitted: an approver of the parent region applies it',
    'plan.open': 'Open plan',
    'plan.open.id': 'Plan number',
    'plan.open.hint': "Enter the number of a planner's plan, check it, then apply it",
    'plan.status.applied': 'this plan is applied',
    'plan.status.draft': 'awaiting approval',
    'plan.by.who': 'Submitted by',
    'myunit.title': "My unit's dispatched events",
    'myunit.none': 'no event dispatched to this unit',
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

// formatDateTime: an instant in Beijing time, in the page's language.
export function formatDateTime(iso, l = current) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toLocaleString(l === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
}

// formatTime: an instant's time of day in Beijing time, 24-hour
// HH:MM:SS (the same in both languages).
export function formatTime(iso, l = current) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toLocaleTimeString(l === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
}

export function formatNumber(n, l = current) {
  if (n == null || Number.isNaN(n)) return '–';
  return Number(n).toLocaleString(l === 'zh' ? 'zh-CN' : 'en-US');
}

// Server errors and plan problems come with an English reason; the page
// shows its own text for their machine code (err.<code>, rule.<rule>) and
// keeps the reason for a tooltip. Visible text never mixes languages: the
// reason is appended only where the page itself is in English.

// has: the key exists in l or in Chinese (t() would not fall back to it).
const has = (key, l) => dict[l]?.[key] != null || dict.zh[key] != null;

// errorText: what to show for a failed request (an ApiError from urls.js,
// or any Error): the localized summary of its code, the generic t('error')
// for an unknown code or none; in English followed by the server's reason.
export function errorText(err, l = current) {
  const code = err?.code;
  const summary = code && has(`err.${code}`, l) ? t(`err.${code}`, l) : t('error', l);
  const detail = errorDetail(err);
  return l === 'en' && detail && detail !== summary ? `${summary} · ${detail}` : summary;
}

// errorDetail: the server's reason, or the error's own message, for a
// title attribute.
export function errorDetail(err) {
  if (err == null) return '';
  if (typeof err === 'string') return err;
  return String(err.detail ?? err.message ?? '');
}

// errorTitle: the tooltip of a shown error: the reason and the request id
// to quote to an operator.
export function errorTitle(err, l = current) {
  const detail = errorDetail(err);
  const id = err?.requestId;
  return id ? `${detail}${detail ? ' ' : ''}(${t('err.request', l)} ${id})` : detail;
}

// showError fills el with the localized error and the reason as its title.
export function showError(el, err, l = current, prefix = '') {
  el.textContent = prefix + errorText(err, l);
  const title = errorTitle(err, l);
  if (title) el.title = title;
  if (err?.code) el.dataset.code = err.code;
  return el;
}

// ruleText: a plan problem's rule in words; an unknown rule shows the
// server's reason itself (and an unknown rule without one, the rule).
export function ruleText(problem, l = current) {
  const rule = problem?.rule;
  // "empty" is both a grid left without parcels and a plan without operations
  const key = rule === 'empty' && !problem.grid ? 'rule.empty_plan' : `rule.${rule}`;
  if (rule && has(key, l)) return t(key, l);
  return problem?.reason || rule || t('error', l);
}

// problemText: one plan problem as the planner lists it: "<grid>: <rule>".
export function problemText(problem, l = current) {
  return `${problem?.grid ? `${problem.grid}: ` : ''}${ruleText(problem, l)}`;
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
