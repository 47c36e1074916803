// The editor's own texts. Each is English, marked N_() for `pybabel extract` (babel.cfg, domain
// "js"); the reader's language comes from <html lang>, its texts from the gettext catalogue
// web/translations/<lang>/LC_MESSAGES/js.po, which the page embeds as JSON in #ui-texts.
const N_ = (text) => text;
const TEXTS = {
  files: N_('Files'),
  back: N_('Workbench'),
  problems: N_('Problems'),
  no_problems: N_('No errors: the draft validates.'),
  n_problems: N_('{n} errors'),
  n_problem: N_('1 error'),
  n_warnings: N_('({n} warnings)'),
  n_warning: N_('(1 warning)'),
  saving: N_('Saving…'),
  saved: N_('Saved {when} by {who}'),
  save_failed: N_('Not saved: {message}'),
  validating: N_('Checking…'),
  validate: N_('Check now'),
  compare: N_('Compare with'),
  compare_go: N_('Compare'),
  compare_clear: N_('Hide differences'),
  download: N_('Download zip'),
  upload: N_('Upload zip or files'),
  uploaded: N_('Uploaded.'),
  deploy: N_('Deploy'),
  deploy_note: N_('Note for this version'),
  deployed: N_('Deployed {name} version {version}.'),
  deployed_same: N_('Nothing changed: {name} version {version} is the same.'),
  deploy_refused: N_('Not deployed: fix the problems first.'),
  base_version: N_('From deployment #{id}'),
  new_bundle: N_('New bundle'),
  new_file: N_('New file (path)'),
  add: N_('Add'),
  delete_file: N_('Delete'),
  confirm_delete: N_('Delete {path} from the draft?'),
  pick_file: N_('Choose a file on the left.'),
  schema: N_('JSON Schema'),
  uischema: N_('uiSchema'),
  preview: N_('Preview (what staff see)'),
  try_it: N_('Try it'),
  try_data: N_('Sample input (JSON)'),
  try_ok: N_('Valid: the server accepts this input.'),
  try_bad: N_('Refused:'),
  invalid_json_at: N_('Not valid JSON: a syntax error at line {line}, column {column}.'),
  invalid_json_end: N_('Not valid JSON: the text ends too early (a bracket or a quote is not closed).'),
  invalid_json_other: N_('Not valid JSON: check the brackets, quotes and commas.'),
  unreadable_diagram: N_('The modeler cannot draw this file ({message}). It is shown as XML: mend it here (the Problems list gives the line), then open the file again to see the diagram.'),
  translations: N_('Translations'),
  missing: N_('{n} missing'),
  key: N_('Text'),
  where: N_('Where'),
  translation: N_('Translation'),
  only_missing: N_('Only missing'),
  file: N_('File'),
  decision: N_('Decision'),
  field: N_('Field'),
  element: N_('Element'),
  message: N_('Message'),
  status: N_('Status'),
  before: N_('Before'),
  after: N_('After'),
  added: N_('added'),
  removed: N_('removed'),
  changed: N_('changed'),
  same: N_('same'),
  layout_changed: N_('moved'),
  files_changed: N_('Files'),
  dmn_rows: N_('Decision rows'),
  form_fields: N_('Form fields'),
  translation_changes: N_('Translations'),
  diagram_changes: N_('Diagram'),
  no_changes: N_('No differences.'),
  error: N_('Error: {message}'),
  // properties panel
  g_form: N_('Form'),
  g_instructions: N_('Instructions'),
  g_operator: N_('Service operator'),
  g_scripts: N_('Scripts'),
  g_script: N_('Script'),
  g_condition: N_('Condition'),
  g_decision: N_('Decision'),
  g_call: N_('Called process'),
  g_message: N_('Message'),
  g_timer: N_('Timer'),
  g_lane: N_('Role'),
  form_schema: N_('Form schema'),
  form_uischema: N_('Form uiSchema'),
  none: N_('(none)'),
  create_new: N_('New form…'),
  new_form_name: N_('Name of the new form (e.g. my_step)'),
  instructions_md: N_('Instructions for the user (Markdown)'),
  md_preview: N_('Preview'),
  operator: N_('Operator'),
  result_variable: N_('Result variable'),
  required: N_('required'),
  param_hint: N_('Python expression on task data ({type}); string literals need quotes.'),
  pre_script: N_('Pre-script (Python, before the task)'),
  post_script: N_('Post-script (Python, after the task)'),
  script: N_('Script (Python)'),
  condition: N_('Condition (Python expression)'),
  called_decision: N_('Called decision'),
  called_process: N_('Called process'),
  message_name: N_('Message name'),
  message_variable: N_('Variable that receives the message'),
  correlation_key: N_('Correlation property'),
  correlation_expr: N_('Correlation expression'),
  payload: N_('Payload expression'),
  timer_kind: N_('Kind'),
  timer_duration: N_('Duration'),
  timer_date: N_('Date'),
  timer_cycle: N_('Cycle'),
  timer_expr: N_('Expression (Python, e.g. "P3D")'),
  timer_means: N_('Means: {words}'),
  timer_unreadable: N_('Not an ISO 8601 duration, date or cycle'),
  lane_role: N_('Role of the people in this lane'),
  lane_maps: N_('Maps to role: {role}'),
  every: N_('every {words}'),
  times: N_('{n} times'),
  at: N_('at {when}'),
};
const UNITS = {
  Y: [N_('year'), N_('years')], M: [N_('month'), N_('months')], W: [N_('week'), N_('weeks')],
  D: [N_('day'), N_('days')], H: [N_('hour'), N_('hours')], TM: [N_('minute'), N_('minutes')],
  S: [N_('second'), N_('seconds')],
};

export const LANG = (document.documentElement.lang || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';

function catalogue() {
  const node = typeof document === 'undefined' ? null : document.getElementById('ui-texts');
  try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
}
const CATALOGUE = catalogue();

// An English text in the reader's language ({name} placeholders filled).
export function gettext(english, values = {}) {
  let text = Object.prototype.hasOwnProperty.call(CATALOGUE, english) ? CATALOGUE[english] : english;
  for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
  return text;
}

// One of the editor's texts by its key.
export function t(key, values = {}) {
  return gettext(TEXTS[key] ?? key, values);
}

// Say why JSON.parse refused `text` in the reader's words: where (line, column), not the browser's English.
export function jsonError(text, err) {
  const message = String((err && err.message) || '');
  const at = /line (\d+) column (\d+)/.exec(message);
  const position = /position (\d+)/.exec(message);
  if (at) return t('invalid_json_at', { line: Number(at[1]), column: Number(at[2]) });
  if (position && Number(position[1]) >= String(text).length) return t('invalid_json_end');
  if (position) {
    const before = String(text).slice(0, Number(position[1])).split('\n');
    return t('invalid_json_at', { line: before.length, column: before[before.length - 1].length + 1 });
  }
  if (/end of (JSON )?(data|input)|unterminated/i.test(message)) return t('invalid_json_end');
  return t('invalid_json_other');
}

// "P3D" → "3 days" / "3 天"; "R3/PT1H" → "every 1 hour, 3 times"; null when unreadable.
export function durationWords(text) {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const parts = [];
  ['Y', 'M', 'W', 'D', 'H', 'TM', 'S'].forEach((unit, i) => {
    const n = m[i + 1];
    if (!n) return;
    const [one, many] = UNITS[unit];
    parts.push(`${n} ${gettext(Number(n) === 1 ? one : many)}`);
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
