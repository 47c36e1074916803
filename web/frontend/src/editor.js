// The process owner's workbench editor: one draft's files (BPMN, DMN, forms, translations),
// autosaved, validated by the server as it changes, compared with a deployed version, deployed.
import DmnModeler from 'dmn-js/lib/Modeler';
import { EditorView, basicSetup } from 'codemirror';
import { json } from '@codemirror/lang-json';
import { createBpmnModeler, diffBpmn, translate } from './bpmn-pane.js';
import { call, apiUrls, errorText } from './api.js';
import { LANG, jsonError, t, timerWords } from './i18n.js';

const $ = (sel, root = document) => root.querySelector(sel);
const config = JSON.parse($('#workbench-config').textContent);
const urls = apiUrls(config);
const state = {
  files: [], current: null, kind: null, problems: [], saving: new Map(), timers: new Map(),
  contents: new Map(), comparedWith: null, diff: null, loading: false,
};
const catalog = { operators: [], index: {}, createForm };
window.workbench = { state, catalog, code: {}, timerWords };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child.nodeType ? child : String(child));
  }
  return node;
}

function debounce(key, ms, fn) {
  clearTimeout(state.timers.get(key));
  state.timers.set(key, setTimeout(fn, ms));
}

function flash(text, kind = 'info') {
  const box = $('#wb-flash');
  box.textContent = text;
  box.className = `wb-flash ${kind}`;
  box.hidden = !text;
}

function applyTexts(root = document) {
  root.querySelectorAll('[data-t]').forEach((node) => { node.textContent = t(node.dataset.t); });
  root.querySelectorAll('[data-t-placeholder]').forEach((node) => { node.placeholder = t(node.dataset.tPlaceholder); });
  root.querySelectorAll('[data-t-label]').forEach((node) => { node.setAttribute('aria-label', t(node.dataset.tLabel)); });
}

function kindOf(path) {
  if (path.endsWith('.bpmn')) return 'bpmn';
  if (path.endsWith('.dmn')) return 'dmn';
  if (path.endsWith('.schema.json') || path.endsWith('.uischema.json')) return 'form';
  if (/(^|\/)translations\.[A-Za-z_-]+\.json$/.test(path)) return 'translations';
  return 'text';
}

// A moment as the server's pages say it (web/rendering.py, `when`): in the business time zone of
// body[data-time-zone] with the label of body[data-zone-label] (北京时间 / CST), not in the browser's
// zone; an ISO text without a zone is UTC, as the server stores it.
const ZONE = document.body.dataset;
const STAMP = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE.timeZone || 'UTC', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

function when(iso) {
  if (!iso) return '';
  const date = new Date(/(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(date.getTime())) return iso;
  const p = Object.fromEntries(STAMP.formatToParts(date).map(({ type, value }) => [type, value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${ZONE.zoneLabel || 'UTC'}`;
}

// --- files --------------------------------------------------------------------------------------
async function loadDraft() {
  const draft = await call('GET', urls.draft);
  state.files = draft.files || [];
  showSaved(draft.updated_at, draft.updated_by, null);
  renderFiles();
  return draft;
}

function renderFiles() {
  const list = $('#wb-files');
  list.replaceChildren(...state.files.map((f) => {
    const count = state.problems.filter((p) => p.file === f.path && p.severity !== 'warning').length;
    return el('li', { class: f.path === state.current ? 'current' : '' },
      el('a', { href: `#${encodeURIComponent(f.path)}`, 'data-path': f.path,
        title: f.saved_at ? t('saved', { when: when(f.saved_at), who: f.saved_by || '' }) : null,
        // the open file, clicked again, opens again: a diagram mended as text is drawn
        onclick: (event) => { if (f.path === state.current) { event.preventDefault(); openFile(f.path); } } }, f.path),
      count ? el('span', { class: 'wb-badge', title: t('n_problems', { n: count }) }, String(count)) : null);
  }));
}

async function readFile(path) {
  return call('GET', urls.file(path), undefined, { text: true });
}

function saveLater(path, produce) {
  state.saving.set(path, produce);
  setStatus(t('saving'), 'busy');
  debounce(`save:${path}`, 700, () => saveNow(path));
}

async function saveNow(path) {
  const produce = state.saving.get(path);
  if (!produce) return;
  state.saving.delete(path);
  try {
    const content = await produce();
    if (state.contents.get(path) === content) { setStatus(state.lastSaved || '', state.lastSaved ? 'saved' : ''); return; }
    const result = await call('PUT', urls.file(path), content, { raw: true });
    state.contents.set(path, content);
    if (!state.files.some((f) => f.path === path)) { state.files.push({ path, kind: kindOf(path) }); renderFiles(); }
    showSaved(result.updated_at, config.user || result.updated_by || config.draft.updated_by, path);
    debounce('validate', 300, validate);
  } catch (err) {
    setStatus(t('save_failed', { message: err.message }), 'error');
  }
}

async function flushSaves() {
  await Promise.all([...state.saving.keys()].map((path) => { clearTimeout(state.timers.get(`save:${path}`)); return saveNow(path); }));
}

function setStatus(text, kind) {
  const node = $('#wb-status');
  node.textContent = text;
  node.dataset.state = kind || '';
}

function showSaved(at, who, path = state.current) {
  if (!at) return;
  state.lastSaved = t('saved', { when: when(at), who: who || '' });
  setStatus(state.lastSaved, 'saved');
  const file = state.files.find((f) => f.path === path);
  if (file) Object.assign(file, { saved_at: at, saved_by: who });
}

async function createForm(base) {
  const schema = JSON.stringify({ title: base, type: 'object', properties: {}, required: [] }, null, 2);
  const ui = JSON.stringify({ 'ui:order': [] }, null, 2);
  const folder = (catalog.index.forms || [])[0]?.includes('/') ? catalog.index.forms[0].replace(/[^/]+$/, '') : 'forms/';
  await call('PUT', urls.file(`${folder}${base}.schema.json`), schema, { raw: true });
  await call('PUT', urls.file(`${folder}${base}.uischema.json`), ui, { raw: true });
  await Promise.all([loadDraft(), loadIndex()]);
}

async function loadIndex() {
  try { catalog.index = await call('GET', urls.bundleIndex); } catch (err) { flash(errorText(err), 'error'); }
}

// --- panes --------------------------------------------------------------------------------------
let bpmn = null;
let dmn = null;
const code = window.workbench.code;

function showPane(kind) {
  document.querySelectorAll('.wb-pane').forEach((pane) => { pane.hidden = pane.dataset.kind !== kind; });
}

// Open ``path`` in its pane; tell whether it opened as it is (false: shown as text to mend, or failed).
async function openFile(path) {
  let opened = true;
  flash('');
  await flushSaves();
  state.current = path;
  state.kind = kindOf(path);
  renderFiles();
  $('#wb-current').textContent = path;
  state.loading = true;
  try {
    const content = await readFile(path);
    state.contents.set(path, content);
    let pane = state.kind === 'translations' ? 'translations' : state.kind;
    if (state.kind === 'bpmn' || state.kind === 'dmn') {
      try {
        if (state.kind === 'bpmn') await openBpmn(path, content);
        else await openDmn(path, content);
      } catch (err) {
        // not a diagram the modeler can read (e.g. an upload cut off halfway): its XML, to mend here as text
        openText(path, content, false);
        pane = 'text';
        flash(t('unreadable_diagram', { message: String(err.message || err).split('\n')[0] }), 'error');
        opened = false;
      }
    } else if (state.kind === 'form') await openForm(path);
    else if (state.kind === 'translations') await openTranslations(path, content);
    else openText(path, content);
    showPane(pane);
  } catch (err) {
    flash(errorText(err), 'error');
    opened = false;
  } finally {
    state.loading = false;
  }
  showProblems();
  if (state.comparedWith) showDiagramDiff();
  return opened;
}

async function openBpmn(path, xml) {
  showPane('bpmn');
  if (!bpmn) {
    bpmn = createBpmnModeler($('#wb-canvas'), $('#wb-props'), catalog);
    window.workbench.bpmn = bpmn;
    bpmn.on('commandStack.changed', () => {
      if (state.loading || state.kind !== 'bpmn') return;
      const target = state.current;
      saveLater(target, async () => (await bpmn.saveXML({ format: true })).xml);
    });
  }
  await bpmn.importXML(xml);
  bpmn.get('canvas').zoom('fit-viewport');
}

async function openDmn(path, xml) {
  showPane('dmn');
  if (!dmn) {
    dmn = new DmnModeler({ container: $('#wb-dmn-canvas'),
      // (dmn-js passes additionalModules per view, not from `common`)
      decisionTable: { additionalModules: [{ translate: ['value', translate] }] },
      literalExpression: { additionalModules: [{ translate: ['value', translate] }] } });
    window.workbench.dmn = dmn;
    dmn.on('views.changed', ({ activeView }) => {
      const viewer = dmn.getActiveViewer();
      if (viewer && !viewer.__wbHooked) {
        viewer.__wbHooked = true;
        viewer.on('elements.changed', () => {
          if (state.loading || state.kind !== 'dmn') return;
          saveLater(state.current, async () => (await dmn.saveXML({ format: true })).xml);
        });
      }
      renderDmnViews(activeView);
      markDmnProblems();
    });
  }
  await dmn.importXML(xml);
  const table = dmn.getViews().find((v) => v.type === 'decisionTable');
  if (table) await dmn.open(table);
}

function renderDmnViews(active) {
  const tabs = $('#wb-dmn-views');
  tabs.replaceChildren(...dmn.getViews().filter((v) => v.type !== 'drd').map((view) =>
    el('button', { type: 'button', class: view === active ? 'current' : '', onclick: () => dmn.open(view) },
      view.element.name || view.element.id)));
}

function codeEditor(parent, doc, onChange, language = json()) {
  const view = new EditorView({
    doc,
    parent,
    extensions: [basicSetup, language, EditorView.lineWrapping, EditorView.updateListener.of((update) => {
      if (update.docChanged) onChange(update.state.doc.toString());
    })],
  });
  return view;
}

function setDoc(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

function formPair(path) {
  const base = path.replace(/\.(ui)?schema\.json$/, '');
  return { schema: `${base}.schema.json`, uischema: `${base}.uischema.json` };
}

async function openForm(path) {
  const pair = formPair(path);
  state.form = pair;
  const known = new Set(state.files.map((f) => f.path));
  const [schema, uischema] = await Promise.all([pair.schema, pair.uischema].map((p) => (known.has(p) ? readFile(p) : Promise.resolve('{}'))));
  state.contents.set(pair.schema, schema);
  state.contents.set(pair.uischema, uischema);
  $('#wb-schema-name').textContent = pair.schema;
  $('#wb-uischema-name').textContent = pair.uischema;
  for (const [key, text] of [['schema', schema], ['uischema', uischema]]) {
    if (!code[key]) {
      code[key] = codeEditor($(`#wb-${key}`), text, (doc) => {
        if (state.loading) return;
        const target = state.form[key];
        if (parseJson(doc, key)) saveLater(target, async () => doc);
        debounce('preview', 400, previewForm);
      });
    } else {
      setDoc(code[key], text);
    }
  }
  if (!code.data) code.data = codeEditor($('#wb-try-data'), '{}', () => {});
  await previewForm();
}

function parseJson(text, where) {
  try {
    const value = JSON.parse(text);
    $(`#wb-${where}-error`).textContent = '';
    return { value };
  } catch (err) {
    $(`#wb-${where}-error`).textContent = jsonError(text, err);
    return null;
  }
}

async function previewForm() {
  const schema = parseJson(code.schema.state.doc.toString(), 'schema');
  const uischema = parseJson(code.uischema.state.doc.toString(), 'uischema');
  if (!schema || !uischema) return;
  try {
    const result = await call('POST', urls.formPreview, { schema: schema.value, uischema: uischema.value, lang: LANG, draft: config.draft.id });
    const box = $('#wb-form-preview');
    box.innerHTML = result.html;
    box.querySelectorAll('form').forEach((form) => form.addEventListener('submit', (e) => e.preventDefault()));
    markFormProblems();
  } catch (err) {
    $('#wb-form-preview').replaceChildren(el('p', { class: 'wb-error' }, errorText(err)));
  }
}

async function tryForm() {
  const schema = parseJson(code.schema.state.doc.toString(), 'schema');
  const uischema = parseJson(code.uischema.state.doc.toString(), 'uischema');
  const data = parseJson(code.data.state.doc.toString(), 'data');
  if (!schema || !uischema || !data) return;
  const out = $('#wb-try-result');
  try {
    const result = await call('POST', urls.formTry, { schema: schema.value, uischema: uischema.value, data: data.value });
    out.replaceChildren(result.ok ? el('p', { class: 'wb-ok' }, t('try_ok'))
      : el('div', { class: 'wb-error' }, el('p', {}, t('try_bad')),
        el('ul', {}, (result.errors || []).map((e) => el('li', {}, el('code', {}, e.field || '—'), ' ', e.message)))));
  } catch (err) {
    out.replaceChildren(el('p', { class: 'wb-error' }, errorText(err)));
  }
}

function openText(path, content, isJson = /\.json$/i.test(path)) {
  // one text pane for every file shown as text; JSON highlighting only for JSON (an unreadable diagram is XML)
  if (code.text && code.textJson !== isJson) {
    code.text.destroy();
    code.text = null;
  }
  if (!code.text) {
    code.textJson = isJson;
    code.text = codeEditor($('#wb-text'), content, (doc) => {
      if (state.loading) return;
      const target = state.current;
      saveLater(target, async () => doc);
    }, isJson ? json() : []);
  } else {
    setDoc(code.text, content);
  }
}

async function openTranslations(path, content) {
  const lang = /translations\.([A-Za-z_-]+)\.json$/.exec(path)[1];
  let texts = {};
  try { texts = JSON.parse(content || '{}'); } catch (err) { flash(jsonError(content, err), 'error'); }
  const info = await call('GET', urls.translations(lang));
  const tbody = $('#wb-translations tbody');
  const count = () => {
    const missing = info.entries.filter((e) => !(texts[e.key] || '').trim()).length;
    $('#wb-missing').textContent = t('missing', { n: missing });
    return missing;
  };
  tbody.replaceChildren(...info.entries.map((entry) => {
    const input = el('textarea', { rows: 1, lang, 'data-key': entry.key, 'aria-label': entry.key });
    input.value = texts[entry.key] || '';
    input.addEventListener('input', () => {
      if (input.value) texts[entry.key] = input.value; else delete texts[entry.key];
      row.classList.toggle('missing', !input.value.trim());
      count();
      saveLater(path, async () => `${JSON.stringify(texts, null, 2)}\n`);
    });
    const row = el('tr', { class: input.value.trim() ? '' : 'missing' },
      el('td', {}, entry.key), el('td', { class: 'where' }, [entry.kind, entry.where].filter(Boolean).join(' · ')), el('td', {}, input));
    return row;
  }));
  count();
}

// --- validation ----------------------------------------------------------------------------------
async function validate() {
  const box = $('#wb-problems-count');
  box.textContent = t('validating');
  try {
    const result = await call('POST', urls.validate);
    state.problems = result.problems || [];
  } catch (err) {
    state.problems = err.body && err.body.problems ? err.body.problems : state.problems;
    flash(errorText(err), 'error');
  }
  renderFiles();
  showProblems();
}

function showProblems() {
  const list = $('#wb-problems');
  const problems = state.problems;
  const errors = problems.filter((p) => p.severity !== 'warning');
  const warnings = problems.length - errors.length;
  let summary = errors.length ? t(errors.length === 1 ? 'n_problem' : 'n_problems', { n: errors.length }) : t('no_problems');
  if (warnings) summary += ` ${t(warnings === 1 ? 'n_warning' : 'n_warnings', { n: warnings })}`;
  $('#wb-problems-count').textContent = summary;
  $('#wb-problems-count').dataset.state = errors.length ? 'error' : 'ok';
  list.replaceChildren(...problems.map((p) => el('li', { class: `wb-problem ${p.severity || 'error'}`, 'data-element': p.element_id || '' },
    el('a', { href: `#${encodeURIComponent(p.file || '')}`, onclick: () => { state.focus = p.element_id; } }, p.file || ''),
    p.element_id ? el('code', {}, p.element_id) : null,
    p.row ? el('span', { class: 'tag' }, `row ${p.row}`) : null,
    p.field ? el('span', { class: 'tag' }, p.field) : null,
    ' ', said(p))));
  markBpmnProblems();
  markDmnProblems();
  markFormProblems();
}

function markBpmnProblems() {
  if (!bpmn || state.kind !== 'bpmn') return;
  const overlays = bpmn.get('overlays');
  const registry = bpmn.get('elementRegistry');
  const canvas = bpmn.get('canvas');
  overlays.remove({ type: 'wb-problem' });
  registry.getAll().forEach((shape) => canvas.removeMarker(shape.id, 'wb-has-problem'));
  const byElement = new Map();
  for (const p of state.problems) {
    if (p.file !== state.current || !p.element_id || !registry.get(p.element_id)) continue;
    if (!byElement.has(p.element_id)) byElement.set(p.element_id, []);
    byElement.get(p.element_id).push(p);
  }
  for (const [id, list] of byElement) {
    const shape = registry.get(id);
    canvas.addMarker(id, 'wb-has-problem');
    const badge = el('div', { class: `wb-overlay ${list.some((p) => p.severity !== 'warning') ? 'error' : 'warning'}`,
      title: list.map(said).join('\n'), 'data-element': id }, String(list.length));
    const position = shape.waypoints ? { top: -10, left: -10 } : { top: -10, right: 10 };
    overlays.add(id, 'wb-problem', { position, html: badge });
  }
  if (state.focus && registry.get(state.focus)) {
    bpmn.get('selection').select(registry.get(state.focus));
    state.focus = null;
  }
}

function markDmnProblems() {
  if (!dmn || state.kind !== 'dmn') return;
  const container = $('#wb-dmn-canvas');
  const view = dmn.getActiveView();
  container.querySelectorAll('.wb-row-problem').forEach((n) => n.classList.remove('wb-row-problem'));
  for (const p of state.problems) {
    if (p.file !== state.current || (p.row === undefined && !p.element_id)) continue;
    if (p.decision && view && view.element.id !== p.decision) continue;
    let cells = [];
    if (p.element_id) {
      const id = CSS.escape(String(p.element_id));
      cells = [...container.querySelectorAll(`[data-row-id="${id}"], [data-element-id="${id}"]`)];
    }
    if (!cells.length && p.row) {
      const row = container.querySelectorAll('.tjs-table tbody tr')[Number(p.row) - 1];
      cells = row ? [...row.children] : [];
    }
    cells.forEach((cell) => { cell.classList.add('wb-row-problem'); cell.title = said(p); });
  }
}

/** A finding in the reader's language (the server's localized_message), else as the engine wrote it. */
function said(p) { return p.localized_message || p.message; }

function markFormProblems() {
  if (state.kind !== 'form' || !state.form) return;
  const box = $('#wb-form-preview');
  box.querySelectorAll('.wb-field-problem').forEach((n) => n.classList.remove('wb-field-problem'));
  for (const p of state.problems) {
    if (!p.field || (p.file !== state.form.schema && p.file !== state.form.uischema)) continue;
    const input = box.querySelector(`[name="${CSS.escape(p.field)}"]`);
    const holder = input ? (input.closest('.field, label, div') || input) : null;
    if (holder) { holder.classList.add('wb-field-problem'); holder.title = said(p); }
  }
}

// --- compare -------------------------------------------------------------------------------------
const STATUS_CLASS = { added: 'wb-diff-added', removed: 'wb-diff-removed', changed: 'wb-diff-changed', layout: 'wb-diff-layout' };

async function compare() {
  const dep = $('#wb-compare-with').value;
  if (!dep) return;
  state.comparedWith = dep;
  const box = $('#wb-compare');
  box.hidden = false;
  try {
    const result = await call('GET', urls.compare(dep));
    renderCompare(result);
  } catch (err) {
    box.replaceChildren(el('p', { class: 'wb-error' }, errorText(err)));
  }
  await showDiagramDiff();
}

function table(title, headers, rows) {
  if (!rows.length) return null;
  return el('section', { class: 'wb-compare-part' }, el('h3', {}, title),
    el('div', { class: 'wb-scroll' }, el('table', { class: 'grid' },
      el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map((cells) => el('tr', { class: `status-${cells.status}` },
        cells.values.map((v) => el('td', {}, v === null || v === undefined || v === '' ? '—' : typeof v === 'string' ? v : JSON.stringify(v)))))))));
}

function status(s) { return t(s) || s; }

// A decision row as the table shows it: "- | - | > 1000 → "supervisor", "above_authority"".
function ruleText(rule) {
  if (!rule || typeof rule !== 'object' || !Array.isArray(rule.inputs)) return rule ?? '';
  return `${rule.inputs.join(' | ')} → ${(rule.outputs || []).join(', ')}${rule.description ? ` (${rule.description})` : ''}`;
}

function renderCompare(result) {
  const files = (result.files || []).filter((f) => f.status !== 'same');
  const parts = [
    el('h2', {}, `${t('compare')} #${state.comparedWith}`,
      el('button', { type: 'button', class: 'link', onclick: clearCompare }, t('compare_clear'))),
    table(t('files_changed'), [t('file'), t('status')], files.map((f) => ({ status: f.status, values: [f.path, status(f.status)] }))),
    table(t('dmn_rows'), [t('file'), t('decision'), '#', t('status'), t('before'), t('after')],
      (result.dmn_rows || []).map((r) => ({ status: r.status, values: [r.file, r.decision, String(r.row), status(r.status), ruleText(r.before), ruleText(r.after)] }))),
    table(t('form_fields'), [t('file'), t('field'), t('status'), t('before'), t('after')],
      (result.form_fields || []).map((r) => ({ status: r.status, values: [r.file, r.field, status(r.status), r.before, r.after] }))),
    table(t('translation_changes'), [t('file'), t('key'), t('status'), t('before'), t('after')],
      (result.translations || []).map((r) => ({ status: r.status, values: [r.file, r.key, status(r.status), r.before, r.after] }))),
    el('section', { class: 'wb-compare-part', id: 'wb-diagram-diff' }),
  ];
  if (!files.length) parts.splice(1, 0, el('p', {}, t('no_changes')));
  $('#wb-compare').replaceChildren(...parts.filter(Boolean));
}

function clearCompare() {
  state.comparedWith = null;
  state.diff = null;
  $('#wb-compare').hidden = true;
  clearDiagramDiff();
}

function clearDiagramDiff() {
  if (!bpmn) return;
  const canvas = bpmn.get('canvas');
  bpmn.get('elementRegistry').getAll().forEach((e) => Object.values(STATUS_CLASS).forEach((c) => canvas.removeMarker(e.id, c)));
}

async function showDiagramDiff() {
  if (state.kind !== 'bpmn' || !bpmn || !state.comparedWith) return;
  const box = $('#wb-diagram-diff');
  let oldXml;
  try {
    oldXml = await call('GET', urls.deploymentFile(state.comparedWith, state.current), undefined, { text: true });
  } catch (err) {
    if (box) box.replaceChildren(el('h3', {}, t('diagram_changes')), el('p', {}, `${state.current}: ${t('added')}`));
    return;
  }
  const { xml } = await bpmn.saveXML();
  const changes = await diffBpmn(oldXml, xml);
  state.diff = changes;
  clearDiagramDiff();
  const canvas = bpmn.get('canvas');
  const registry = bpmn.get('elementRegistry');
  for (const [kind, ids] of Object.entries(changes)) {
    for (const id of ids) if (registry.get(id)) canvas.addMarker(id, STATUS_CLASS[kind]);
  }
  if (box) {
    box.replaceChildren(el('h3', {}, `${t('diagram_changes')} · ${state.current}`),
      el('ul', { class: 'wb-legend' }, ['added', 'removed', 'changed', 'layout'].map((kind) => el('li', { class: `status-${kind}` },
        el('span', { class: `swatch ${STATUS_CLASS[kind]}` }), `${t(kind === 'layout' ? 'layout_changed' : kind)}: `,
        changes[kind].length ? changes[kind].map((id) => el('code', {}, id)) : '—'))));
  }
}

// --- download, upload, deploy -----------------------------------------------------------------
async function upload(event) {
  const input = event.target;
  if (!input.files.length) return;
  flash('');
  const form = new FormData();
  for (const file of input.files) form.append('files', file, file.name);
  try {
    await call('POST', urls.upload, form);
    state.contents.clear();
    await Promise.all([loadDraft(), loadIndex()]);
    // opening a file clears the message: say it after, unless the file could not be opened as it is
    if (!state.current || await openFile(state.current)) flash(t('uploaded'), 'ok');
    await validate();
  } catch (err) {
    flash(errorText(err), 'error');
  } finally {
    input.value = '';
  }
}

async function deploy(event) {
  event.preventDefault();
  flash('');
  await flushSaves();
  const note = $('#wb-deploy-note').value.trim();
  try {
    const result = await call('POST', urls.deploy, { note });
    flash(t(result.created === false ? 'deployed_same' : 'deployed', { name: result.name, version: result.version }), 'ok');
    await loadCompareOptions(result.deployment_id);
  } catch (err) {
    if (err.body && err.body.problems) {
      state.problems = err.body.problems;
      showProblems();
      renderFiles();
      flash(`${t('deploy_refused')} ${err.message}`, 'error');
    } else {
      flash(errorText(err), 'error');
    }
  }
}

async function loadCompareOptions(extra) {
  const select = $('#wb-compare-with');
  const ids = new Set([...(config.deployments || []).map((d) => String(d.id ?? d))]);
  if (config.draft.base_deployment_id) ids.add(String(config.draft.base_deployment_id));
  if (extra) ids.add(String(extra));
  const labels = new Map((config.deployments || []).filter((d) => d.id).map((d) => [String(d.id), `${d.name} v${d.version}`]));
  const current = select.value || String(config.draft.base_deployment_id || '');
  select.replaceChildren(...[...ids].map((id) => el('option', { value: id, selected: id === current }, labels.get(id) || `#${id}`)));
}

async function addFile(event) {
  event.preventDefault();
  const input = $('#wb-new-path');
  const path = input.value.trim();
  if (!path) return;
  const initial = path.endsWith('.json') ? '{}\n' : '';
  try {
    await call('PUT', urls.file(path), initial, { raw: true });
    input.value = '';
    await Promise.all([loadDraft(), loadIndex()]);
    window.location.hash = encodeURIComponent(path);
  } catch (err) {
    flash(errorText(err), 'error');
  }
}

async function deleteCurrent() {
  if (!state.current || !window.confirm(t('confirm_delete', { path: state.current }))) return;
  try {
    await call('DELETE', urls.file(state.current));
    state.current = null;
    await loadDraft();
    window.location.hash = '';
    showPane('none');
    await validate();
  } catch (err) {
    flash(errorText(err), 'error');
  }
}

function route() {
  const path = decodeURIComponent(window.location.hash.slice(1));
  if (path && state.files.some((f) => f.path === path) && path !== state.current) openFile(path);
}

async function start() {
  applyTexts();
  $('#wb-download').href = urls.download;
  $('#wb-validate').addEventListener('click', validate);
  $('#wb-compare-go').addEventListener('click', compare);
  $('#wb-upload').addEventListener('change', upload);
  $('#wb-deploy').addEventListener('submit', deploy);
  $('#wb-new-file').addEventListener('submit', addFile);
  $('#wb-delete').addEventListener('click', deleteCurrent);
  $('#wb-try-go').addEventListener('click', tryForm);
  $('#wb-base').textContent = config.draft.base_deployment_id ? t('base_version', { id: config.draft.base_deployment_id }) : t('new_bundle');
  window.addEventListener('hashchange', route);
  window.addEventListener('beforeunload', (e) => { if (state.saving.size) { e.preventDefault(); e.returnValue = ''; } });
  await loadCompareOptions();
  try {
    const [operators] = await Promise.all([call('GET', urls.operators).catch((err) => { flash(errorText(err), 'error'); return []; }), loadIndex(), loadDraft()]);
    catalog.operators = operators;
  } catch (err) {
    flash(errorText(err), 'error');
    return;
  }
  const first = decodeURIComponent(window.location.hash.slice(1));
  const initial = state.files.some((f) => f.path === first) ? first : (state.files.find((f) => f.path.endsWith('.bpmn')) || state.files[0] || {}).path;
  if (initial) await openFile(initial);
  await validate();
  document.body.dataset.workbench = 'ready';
}

start();
