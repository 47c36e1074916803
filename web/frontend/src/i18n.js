// The editor's own texts, in English and Chinese; the language comes from <html lang>.
const TEXTS = {
  files: ['Files', '文件'],
  back: ['Workbench', '工作台'],
  problems: ['Problems', '问题'],
  no_problems: ['No errors: the draft validates.', '没有错误：草稿通过校验。'],
  n_problems: ['{n} errors', '{n} 个错误'],
  n_problem: ['1 error', '1 个错误'],
  n_warnings: ['({n} warnings)', '（{n} 个警告）'],
  n_warning: ['(1 warning)', '（1 个警告）'],
  saving: ['Saving…', '正在保存…'],
  saved: ['Saved {when} by {who}', '{who} 于 {when} 保存'],
  save_failed: ['Not saved: {message}', '未保存：{message}'],
  validating: ['Checking…', '正在校验…'],
  validate: ['Check now', '立即校验'],
  compare: ['Compare with', '对比版本'],
  compare_go: ['Compare', '对比'],
  compare_clear: ['Hide differences', '隐藏差异'],
  download: ['Download zip', '下载 zip'],
  upload: ['Upload zip or files', '上传 zip 或文件'],
  uploaded: ['Uploaded.', '已上传。'],
  deploy: ['Deploy', '部署'],
  deploy_note: ['Note for this version', '本版本说明'],
  deployed: ['Deployed {name} version {version}.', '已部署 {name} 第 {version} 版。'],
  deployed_same: ['Nothing changed: {name} version {version} is the same.', '没有变化：与 {name} 第 {version} 版相同。'],
  deploy_refused: ['Not deployed: fix the problems first.', '未部署：请先修正问题。'],
  base_version: ['From deployment #{id}', '基于部署 #{id}'],
  new_bundle: ['New bundle', '新流程包'],
  new_file: ['New file (path)', '新文件（路径）'],
  add: ['Add', '添加'],
  delete_file: ['Delete', '删除'],
  confirm_delete: ['Delete {path} from the draft?', '从草稿中删除 {path}？'],
  pick_file: ['Choose a file on the left.', '请在左侧选择一个文件。'],
  schema: ['JSON Schema', 'JSON Schema'],
  uischema: ['uiSchema', 'uiSchema'],
  preview: ['Preview (what staff see)', '预览（员工看到的样子）'],
  try_it: ['Try it', '试填'],
  try_data: ['Sample input (JSON)', '示例输入（JSON）'],
  try_ok: ['Valid: the server accepts this input.', '有效：服务器接受此输入。'],
  try_bad: ['Refused:', '被拒绝：'],
  invalid_json: ['Not valid JSON: {message}', 'JSON 无效：{message}'],
  translations: ['Translations', '翻译'],
  missing: ['{n} missing', '缺少 {n} 条'],
  key: ['Text', '原文'],
  where: ['Where', '位置'],
  translation: ['Translation', '译文'],
  only_missing: ['Only missing', '只看缺少的'],
  file: ['File', '文件'],
  decision: ['Decision', '决策'],
  field: ['Field', '字段'],
  element: ['Element', '元素'],
  message: ['Message', '消息'],
  status: ['Status', '状态'],
  before: ['Before', '之前'],
  after: ['After', '之后'],
  added: ['added', '新增'],
  removed: ['removed', '删除'],
  changed: ['changed', '修改'],
  same: ['same', '相同'],
  layout_changed: ['moved', '移动'],
  files_changed: ['Files', '文件'],
  dmn_rows: ['Decision rows', '决策表行'],
  form_fields: ['Form fields', '表单字段'],
  translation_changes: ['Translations', '翻译'],
  diagram_changes: ['Diagram', '流程图'],
  no_changes: ['No differences.', '没有差异。'],
  error: ['Error: {message}', '错误：{message}'],
  // properties panel
  g_form: ['Form', '表单'],
  g_instructions: ['Instructions', '说明'],
  g_operator: ['Service operator', '服务操作'],
  g_scripts: ['Scripts', '脚本'],
  g_script: ['Script', '脚本'],
  g_condition: ['Condition', '条件'],
  g_decision: ['Decision', '决策'],
  g_call: ['Called process', '调用的流程'],
  g_message: ['Message', '消息'],
  g_timer: ['Timer', '定时器'],
  g_lane: ['Role', '角色'],
  form_schema: ['Form schema', '表单 schema'],
  form_uischema: ['Form uiSchema', '表单 uiSchema'],
  none: ['(none)', '（无）'],
  create_new: ['New form…', '新建表单…'],
  new_form_name: ['Name of the new form (e.g. my_step)', '新表单名称（如 my_step）'],
  instructions_md: ['Instructions for the user (Markdown)', '给用户的说明（Markdown）'],
  md_preview: ['Preview', '预览'],
  operator: ['Operator', '操作'],
  result_variable: ['Result variable', '结果变量'],
  required: ['required', '必填'],
  param_hint: ['Python expression on task data ({type}); string literals need quotes.', '基于任务数据的 Python 表达式（{type}）；字符串需加引号。'],
  pre_script: ['Pre-script (Python, before the task)', '前置脚本（Python，任务之前）'],
  post_script: ['Post-script (Python, after the task)', '后置脚本（Python，任务之后）'],
  script: ['Script (Python)', '脚本（Python）'],
  condition: ['Condition (Python expression)', '条件（Python 表达式）'],
  called_decision: ['Called decision', '调用的决策'],
  called_process: ['Called process', '调用的流程'],
  message_name: ['Message name', '消息名称'],
  message_variable: ['Variable that receives the message', '接收消息的变量'],
  correlation_key: ['Correlation property', '关联属性'],
  correlation_expr: ['Correlation expression', '关联表达式'],
  payload: ['Payload expression', '消息内容表达式'],
  timer_kind: ['Kind', '类型'],
  timer_duration: ['Duration', '时长'],
  timer_date: ['Date', '日期'],
  timer_cycle: ['Cycle', '周期'],
  timer_expr: ['Expression (Python, e.g. "P3D")', '表达式（Python，如 "P3D"）'],
  timer_means: ['Means: {words}', '含义：{words}'],
  timer_unreadable: ['Not an ISO 8601 duration, date or cycle', '不是 ISO 8601 时长、日期或周期'],
  lane_role: ['Role of the people in this lane', '此泳道人员的角色'],
  lane_maps: ['Maps to role: {role}', '对应角色：{role}'],
  every: ['every {words}', '每 {words}'],
  times: ['{n} times', '{n} 次'],
  at: ['at {when}', '于 {when}'],
};
const UNITS = {
  Y: [['year', 'years'], '年'], M: [['month', 'months'], '个月'], W: [['week', 'weeks'], '周'],
  D: [['day', 'days'], '天'], H: [['hour', 'hours'], '小时'], TM: [['minute', 'minutes'], '分钟'],
  S: [['second', 'seconds'], '秒'],
};

export const LANG = (document.documentElement.lang || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';

export function t(key, values = {}) {
  const pair = TEXTS[key];
  let text = pair ? pair[LANG === 'zh' ? 1 : 0] : key;
  for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
  return text;
}

// "P3D" → "3 days" / "3 天"; "R3/PT1H" → "every 1 hour, 3 times"; null when unreadable.
export function durationWords(text) {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const parts = [];
  ['Y', 'M', 'W', 'D', 'H', 'TM', 'S'].forEach((unit, i) => {
    const n = m[i + 1];
    if (!n) return;
    const [en, zh] = UNITS[unit];
    parts.push(LANG === 'zh' ? `${n} ${zh}` : `${n} ${Number(n) === 1 ? en[0] : en[1]}`);
  });
  return parts.length ? parts.join(LANG === 'zh' ? ' ' : ', ') : null;
}

export function timerWords(expression) {
  const text = String(expression || '').trim().replace(/^(['"])(.*)\1$/, '$2').trim();
  if (!text) return null;
  const duration = durationWords(text);
  if (duration) return duration;
  const cycle = /^R(\d*)\/(?:([^/]+)\/)?(P[^/]+)$/.exec(text);
  if (cycle) {
    const words = durationWords(cycle[3]);
    if (!words) return null;
    let out = t('every', { words });
    if (cycle[1]) out += (LANG === 'zh' ? '，' : ', ') + t('times', { n: cycle[1] });
    if (cycle[2]) out += (LANG === 'zh' ? '，' : ', ') + t('at', { when: cycle[2] });
    return out;
  }
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return t('at', { when: text });
  return null;
}
