// Properties panel groups for the spiffworkflow dialect the engine reads (see spiffworkflow-moddle.json).
// Everything is written with the commandStack, so undo/redo and autosave see it.
import { h } from '@bpmn-io/properties-panel/preact';
import { SelectEntry, TextAreaEntry, TextFieldEntry, isSelectEntryEdited, isTextAreaEntryEdited,
  isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is, getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';
import { t, timerWords } from './i18n.js';
import { markdown } from './markdown.js';

const MULTI = 'properties-panel.multi-command-executor';

export function extensions(bo, type) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values').filter((v) => v.$type === type) : [];
}

function firstExt(bo, type) {
  return extensions(bo, type)[0];
}

// Commands that make sure bo has extensionElements; returns [extensionElements, commands].
function ensureExtensionElements(element, bo, bpmnFactory) {
  let ext = bo.get('extensionElements');
  if (ext) return [ext, []];
  ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
  ext.$parent = bo;
  return [ext, [{ cmd: 'element.updateModdleProperties',
    context: { element, moddleElement: bo, properties: { extensionElements: ext } } }]];
}

// Set (or remove when empty) a spiffworkflow body element such as preScript.
function setBodyExt(injector, element, type, value, bo = getBusinessObject(element)) {
  const bpmnFactory = injector.get('bpmnFactory');
  const commandStack = injector.get('commandStack');
  const existing = firstExt(bo, type);
  const empty = value === undefined || value === null || value === '';
  if (existing && empty) {
    const ext = bo.get('extensionElements');
    commandStack.execute('element.updateModdleProperties', { element, moddleElement: ext,
      properties: { values: ext.get('values').filter((v) => v !== existing) } });
    return;
  }
  if (empty) return;
  if (existing) {
    commandStack.execute('element.updateModdleProperties',
      { element, moddleElement: existing, properties: { value } });
    return;
  }
  const [ext, cmds] = ensureExtensionElements(element, bo, bpmnFactory);
  const node = bpmnFactory.create(type, { value });
  node.$parent = ext;
  cmds.push({ cmd: 'element.updateModdleProperties',
    context: { element, moddleElement: ext, properties: { values: [...ext.get('values'), node] } } });
  commandStack.execute(MULTI, cmds);
}

// Entry components live at module level (a component made anew per render would be remounted,
// losing what is being typed); what differs between entries comes in as props.
function BodyExt({ element, id, type, label, rows, monospace, target, description }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const bo = target ? target(element) : getBusinessObject(element);
  return TextAreaEntry({ element, id, label, debounce, rows, monospace, description,
    getValue: () => (firstExt(bo, type) || {}).value || '',
    setValue: (value) => setBodyExt(injector, element, type, value, bo) });
}

function bodyExtEntry({ id, type, label, rows = 4, monospace = true, target, description }) {
  return { id, component: BodyExt, isEdited: isTextAreaEntryEdited, type, label, rows, monospace, target, description };
}

// --- user task form -----------------------------------------------------------------------------
function formProperty(bo, name) {
  const props = firstExt(bo, 'spiffworkflow:Properties');
  const prop = props && props.get('properties').find((p) => p.name === name);
  return prop ? prop.value : '';
}

function setFormProperty(injector, element, name, value) {
  const bo = getBusinessObject(element);
  const bpmnFactory = injector.get('bpmnFactory');
  const commandStack = injector.get('commandStack');
  let [ext, cmds] = ensureExtensionElements(element, bo, bpmnFactory);
  let props = firstExt(bo, 'spiffworkflow:Properties');
  if (!props) {
    props = bpmnFactory.create('spiffworkflow:Properties', { properties: [] });
    props.$parent = ext;
    cmds.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: ext, properties: { values: [...ext.get('values'), props] } } });
  }
  const list = props.get('properties');
  const existing = list.find((p) => p.name === name);
  if (existing && !value) {
    cmds.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: props, properties: { properties: list.filter((p) => p !== existing) } } });
  } else if (existing) {
    cmds.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: existing, properties: { value } } });
  } else if (value) {
    const prop = bpmnFactory.create('spiffworkflow:Property', { name, value });
    prop.$parent = props;
    cmds.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: props, properties: { properties: [...list, prop] } } });
  }
  if (cmds.length) commandStack.execute(MULTI, cmds);
}

function FormPick({ element, id, name, suffix, catalog }) {
    const injector = useService('injector');
    const current = formProperty(getBusinessObject(element), name);
    return SelectEntry({ element, id, label: t(name === 'formJsonSchemaFilename' ? 'form_schema' : 'form_uischema'),
      getValue: () => current,
      setValue: (value) => {
        if (value === '__new__') {
          const base = (window.prompt(t('new_form_name')) || '').trim().replace(/[^A-Za-z0-9_-]+/g, '_');
          if (!base) return;
          catalog.createForm(base).then(() => {
            setFormProperty(injector, element, 'formJsonSchemaFilename', `${base}.schema.json`);
            setFormProperty(injector, element, 'formUiSchemaFilename', `${base}.uischema.json`);
          });
          return;
        }
        setFormProperty(injector, element, name, value);
      },
      getOptions: () => {
        const files = (catalog.index.forms || []).filter((f) => f.endsWith(suffix)).map((f) => f.split('/').pop());
        if (current && !files.includes(current)) files.unshift(current);
        return [{ value: '', label: t('none') }, ...files.map((f) => ({ value: f, label: f })),
          { value: '__new__', label: t('create_new') }];
      } });
}

function formEntry(id, name, suffix, catalog) {
  return { id, component: FormPick, isEdited: isSelectEntryEdited, name, suffix, catalog };
}

// --- four eyes: the earlier tasks whose performer may not do this one (engine/duties.py) -----------
const N_ = (text) => text;
const DUTIES = 'excludePerformersOf';

function humanTasksOf(bo) {
  let scope = bo.$parent;
  while (scope && !is(scope, 'bpmn:Process')) scope = scope.$parent;
  const found = [];
  const walk = (container) => (container.get('flowElements') || []).forEach((el) => {
    if (el !== bo && (is(el, 'bpmn:UserTask') || is(el, 'bpmn:ManualTask'))) found.push(el.id);
    if (is(el, 'bpmn:SubProcess')) walk(el);
  });
  if (scope) walk(scope);
  return found;
}

function ExcludedPerformers({ element, id }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  const tasks = humanTasksOf(bo);
  return TextFieldEntry({ element, id, debounce,
    label: t(N_('Not done by whoever completed')),
    description: tasks.length ? t(N_('Ids of earlier user tasks of this process, comma separated: {tasks}'),
      { tasks: tasks.join(', ') }) : '',
    getValue: () => formProperty(bo, DUTIES),
    setValue: (value) => setFormProperty(injector, element, DUTIES, (value || '').trim()) });
}

function InstructionsPreview({ element }) {
    const text = (firstExt(getBusinessObject(element), 'spiffworkflow:InstructionsForEndUser') || {}).value || '';
    return h('div', { class: 'bio-properties-panel-entry wb-md-preview', 'data-entry-id': 'spiff-instructions-preview' },
      h('div', { class: 'bio-properties-panel-label' }, t('md_preview')),
      h('div', { class: 'wb-md', dangerouslySetInnerHTML: { __html: markdown(text) } }));
}

function instructionsEntries() {
  const entry = bodyExtEntry({ id: 'spiff-instructions', type: 'spiffworkflow:InstructionsForEndUser',
    label: t('instructions_md'), rows: 6, monospace: false });
  return [entry, { id: 'spiff-instructions-preview', component: InstructionsPreview }];
}

// --- service task operator ----------------------------------------------------------------------
function operatorOf(bo) {
  return firstExt(bo, 'spiffworkflow:ServiceTaskOperator');
}

function setOperator(injector, element, name, catalog) {
  const bo = getBusinessObject(element);
  const bpmnFactory = injector.get('bpmnFactory');
  const commandStack = injector.get('commandStack');
  const [ext, cmds] = ensureExtensionElements(element, bo, bpmnFactory);
  const old = operatorOf(bo);
  const rest = ext.get('values').filter((v) => v !== old);
  if (!name) {
    if (old) cmds.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: ext, properties: { values: rest } } });
  } else {
    const spec = catalog.operators.find((o) => o.name === name) || { parameters: [] };
    const keep = new Map(old && old.parameterList ? old.parameterList.get('parameters').map((p) => [p.id, p.value]) : []);
    const op = bpmnFactory.create('spiffworkflow:ServiceTaskOperator', { id: name,
      resultVariable: (old && old.resultVariable) || '' });
    const params = bpmnFactory.create('spiffworkflow:Parameters', { parameters: [] });
    params.$parent = op;
    op.parameterList = params;
    params.parameters = spec.parameters.map((p) => {
      const param = bpmnFactory.create('spiffworkflow:Parameter', { id: p.name, type: p.type || 'any',
        value: keep.get(p.name) || '' });
      param.$parent = params;
      return param;
    });
    if (!op.resultVariable) delete op.resultVariable;
    op.$parent = ext;
    cmds.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: ext, properties: { values: [...rest, op] } } });
  }
  commandStack.execute(MULTI, cmds);
}

function OperatorPick({ element, op, catalog }) {
  const injector = useService('injector');
  return SelectEntry({ element, id: 'spiff-operator', label: t('operator'),
    description: op ? ((catalog.operators.find((o) => o.name === op.id) || {}).doc || '') : '',
    getValue: () => (op ? op.id : ''),
    setValue: (value) => setOperator(injector, element, value, catalog),
    getOptions: () => {
      const names = catalog.operators.map((o) => o.name);
      if (op && !names.includes(op.id)) names.unshift(op.id);
      return [{ value: '', label: t('none') }, ...names.map((n) => ({ value: n, label: n }))];
    } });
}

function ResultVariable({ element, op }) {
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  return TextFieldEntry({ element, id: 'spiff-result-variable', label: t('result_variable'), debounce,
    getValue: () => op.resultVariable || '',
    setValue: (value) => commandStack.execute('element.updateModdleProperties',
      { element, moddleElement: op, properties: { resultVariable: value || undefined } }) });
}

function OperatorParameter({ element, id, name, pspec, op }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const type = pspec.type || 'any';
  const label = `${name} (${type})${pspec.required ? ` · ${t('required')}` : ''}`;
  const params = () => (op.parameterList ? op.parameterList.get('parameters') : []);
  return TextFieldEntry({ element, id, label, debounce,
    description: [pspec.doc, t('param_hint', { type })].filter(Boolean).join(' — '),
    getValue: () => ((params().find((p) => p.id === name) || {}).value || ''),
    validate: (value) => (pspec.required && !value ? t('required') : null),
    setValue: (value) => setParameter(injector, element, op, name, type, value) });
}

function operatorEntries(element, catalog) {
  const op = operatorOf(getBusinessObject(element));
  const entries = [{ id: 'spiff-operator', component: OperatorPick, isEdited: isSelectEntryEdited, op, catalog }];
  if (!op) return entries;
  entries.push({ id: 'spiff-result-variable', component: ResultVariable, isEdited: isTextFieldEntryEdited, op });
  const spec = catalog.operators.find((o) => o.name === op.id);
  const params = op.parameterList ? op.parameterList.get('parameters') : [];
  const names = spec ? spec.parameters.map((p) => p.name) : params.map((p) => p.id);
  for (const name of names) {
    const pspec = (spec && spec.parameters.find((p) => p.name === name)) || { name, type: 'any' };
    entries.push({ id: `spiff-param-${name}`, component: OperatorParameter, isEdited: isTextFieldEntryEdited,
      name, pspec, op });
  }
  return entries;
}

function setParameter(injector, element, op, name, type, value) {
  const bpmnFactory = injector.get('bpmnFactory');
  const commandStack = injector.get('commandStack');
  const cmds = [];
  let params = op.parameterList;
  if (!params) {
    params = bpmnFactory.create('spiffworkflow:Parameters', { parameters: [] });
    params.$parent = op;
    cmds.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: op, properties: { parameterList: params } } });
  }
  const list = params.get('parameters');
  const existing = list.find((p) => p.id === name);
  if (existing) {
    cmds.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: existing, properties: { value } } });
  } else {
    const param = bpmnFactory.create('spiffworkflow:Parameter', { id: name, type, value });
    param.$parent = params;
    cmds.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: params, properties: { parameters: [...list, param] } } });
  }
  commandStack.execute(MULTI, cmds);
}

// --- plain BPMN properties the engine runs on --------------------------------------------------
function ScriptBody({ element }) {
    const modeling = useService('modeling');
    const debounce = useService('debounceInput');
    return TextAreaEntry({ element, id: 'spiff-script', label: t('script'), debounce, rows: 8, monospace: true,
      getValue: () => getBusinessObject(element).get('script') || '',
      setValue: (value) => modeling.updateProperties(element, { scriptFormat: 'python', script: value }) });
}

function scriptEntry() {
  return { id: 'spiff-script', component: ScriptBody, isEdited: isTextAreaEntryEdited };
}

function Condition({ element }) {
    const modeling = useService('modeling');
    const bpmnFactory = useService('bpmnFactory');
    const debounce = useService('debounceInput');
    const bo = getBusinessObject(element);
    return TextAreaEntry({ element, id: 'spiff-condition', label: t('condition'), debounce, rows: 2, monospace: true,
      getValue: () => (bo.conditionExpression ? bo.conditionExpression.body || '' : ''),
      setValue: (value) => modeling.updateProperties(element, { conditionExpression: value
        ? bpmnFactory.create('bpmn:FormalExpression', { body: value }) : undefined }) });
}

function conditionEntry() {
  return { id: 'spiff-condition', component: Condition, isEdited: isTextAreaEntryEdited };
}

function Pick({ element, id, label, prop, listName, catalog, bodyType }) {
    const modeling = useService('modeling');
    const injector = useService('injector');
    const bo = getBusinessObject(element);
    const current = bodyType ? ((firstExt(bo, bodyType) || {}).value || '') : (bo.get(prop) || '');
    return SelectEntry({ element, id, label,
      getValue: () => current,
      setValue: (value) => (bodyType ? setBodyExt(injector, element, bodyType, value)
        : modeling.updateProperties(element, { [prop]: value || undefined })),
      getOptions: () => {
        const items = [...(catalog.index[listName] || [])];
        if (current && !items.includes(current)) items.unshift(current);
        return [{ value: '', label: t('none') }, ...items.map((v) => ({ value: v, label: v }))];
      } });
}

function pickEntry(id, label, prop, listName, catalog, bodyType) {
  return { id, component: Pick, isEdited: isSelectEntryEdited, label, prop, listName, catalog, bodyType };
}

// Message name: the bpmn:message of the definitions with that name (created when new).
function MessageName({ element, holder, catalog }) {
  const injector = useService('injector');
  const current = holder.messageRef ? holder.messageRef.name || holder.messageRef.id : '';
  return SelectEntry({ element, id: 'spiff-message-name', label: t('message_name'),
    getValue: () => current,
    setValue: (value) => setMessage(injector, element, holder, value),
    getOptions: () => {
      const items = [...(catalog.index.messages || [])];
      if (current && !items.includes(current)) items.unshift(current);
      return [{ value: '', label: t('none') }, ...items.map((v) => ({ value: v, label: v }))];
    } });
}

function messageEntries(element, catalog) {
  const bo = getBusinessObject(element);
  const holder = is(bo, 'bpmn:ReceiveTask') || is(bo, 'bpmn:SendTask') ? bo
    : (bo.get('eventDefinitions') || []).find((d) => is(d, 'bpmn:MessageEventDefinition'));
  if (!holder) return [];
  const entries = [{ id: 'spiff-message-name', component: MessageName, isEdited: isSelectEntryEdited, holder, catalog }];
  const catches = is(bo, 'bpmn:ReceiveTask') || is(bo, 'bpmn:CatchEvent');
  if (catches) {
    entries.push(bodyExtEntry({ id: 'spiff-message-variable', type: 'spiffworkflow:MessageVariable',
      label: t('message_variable'), rows: 1 }));
    entries.push(...correlationEntries());
  } else {
    entries.push(bodyExtEntry({ id: 'spiff-message-payload', type: 'spiffworkflow:MessagePayload',
      label: t('payload'), rows: 3, target: messageHolder }));
  }
  return entries;
}

function messageHolder(element) {
  const bo = getBusinessObject(element);
  return is(bo, 'bpmn:SendTask') ? bo
    : (bo.get('eventDefinitions') || []).find((d) => is(d, 'bpmn:MessageEventDefinition')) || bo;
}

function setMessage(injector, element, holder, name) {
  const commandStack = injector.get('commandStack');
  const bpmnFactory = injector.get('bpmnFactory');
  const canvas = injector.get('canvas');
  let definitions = getBusinessObject(canvas.getRootElement());
  while (definitions && !is(definitions, 'bpmn:Definitions')) definitions = definitions.$parent;
  const cmds = [];
  let message = null;
  if (name) {
    message = definitions.get('rootElements').find((r) => is(r, 'bpmn:Message') && r.name === name);
    if (!message) {
      message = bpmnFactory.create('bpmn:Message', { name, id: `msg_${name.replace(/[^A-Za-z0-9_]/g, '_')}` });
      message.$parent = definitions;
      cmds.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: definitions,
        properties: { rootElements: [...definitions.get('rootElements'), message] } } });
    }
  }
  cmds.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: holder, properties: { messageRef: message || undefined } } });
  commandStack.execute(MULTI, cmds);
}

function Correlation({ element, id, field, label }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  return TextFieldEntry({ element, id, label: t(label), debounce,
    getValue: () => ((firstExt(bo, 'spiffworkflow:ProcessVariableCorrelation') || {})[field] || ''),
    setValue: (value) => {
      const bpmnFactory = injector.get('bpmnFactory');
      const commandStack = injector.get('commandStack');
      const existing = firstExt(bo, 'spiffworkflow:ProcessVariableCorrelation');
      if (existing) {
        commandStack.execute('element.updateModdleProperties', { element, moddleElement: existing, properties: { [field]: value } });
        return;
      }
      const [ext, cmds] = ensureExtensionElements(element, bo, bpmnFactory);
      const node = bpmnFactory.create('spiffworkflow:ProcessVariableCorrelation', { [field]: value });
      node.$parent = ext;
      cmds.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: ext, properties: { values: [...ext.get('values'), node] } } });
      commandStack.execute(MULTI, cmds);
    } });
}

function correlationEntries() {
  return [['propertyId', 'spiff-correlation-key', 'correlation_key'], ['expression', 'spiff-correlation-expr', 'correlation_expr']]
    .map(([field, id, label]) => ({ id, component: Correlation, isEdited: isTextFieldEntryEdited, field, label }));
}

const TIMER_KINDS = [['timeDuration', 'timer_duration'], ['timeDate', 'timer_date'], ['timeCycle', 'timer_cycle']];

function timerKindOf(definition) {
  return (TIMER_KINDS.find(([k]) => definition.get(k)) || TIMER_KINDS[0])[0];
}

function TimerKind({ element, definition }) {
  const commandStack = useService('commandStack');
  return SelectEntry({ element, id: 'spiff-timer-kind', label: t('timer_kind'),
    getValue: () => timerKindOf(definition),
    setValue: (kind) => {
      const old = timerKindOf(definition);
      const expr = definition.get(old);
      commandStack.execute('element.updateModdleProperties', { element, moddleElement: definition,
        properties: { [old]: undefined, [kind]: expr } });
    },
    getOptions: () => TIMER_KINDS.map(([value, label]) => ({ value, label: t(label) })) });
}

function TimerExpression({ element, definition }) {
  const commandStack = useService('commandStack');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  const kind = timerKindOf(definition);
  const current = definition.get(kind) ? definition.get(kind).body || '' : '';
  const words = timerWords(current);
  return TextFieldEntry({ element, id: 'spiff-timer-expression', label: t('timer_expr'), debounce,
    description: current ? (words ? t('timer_means', { words }) : t('timer_unreadable')) : '',
    getValue: () => current,
    setValue: (value) => commandStack.execute('element.updateModdleProperties', { element, moddleElement: definition,
      properties: { [kind]: bpmnFactory.create('bpmn:FormalExpression', { body: value }) } }) });
}

function timerEntries(element) {
  const definition = (getBusinessObject(element).get('eventDefinitions') || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
  if (!definition) return [];
  return [{ id: 'spiff-timer-kind', component: TimerKind, isEdited: isSelectEntryEdited, definition },
    { id: 'spiff-timer-expression', component: TimerExpression, isEdited: isTextFieldEntryEdited, definition }];
}

export function roleForLane(name) {
  return String(name || '').trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

function LaneRole({ element, catalog }) {
  const modeling = useService('modeling');
  const role = roleForLane(getBusinessObject(element).name || '');
  return SelectEntry({ element, id: 'spiff-lane-role', label: t('lane_role'),
    description: role ? t('lane_maps', { role }) : '',
    getValue: () => role,
    setValue: (value) => modeling.updateLabel(element, value
      ? value.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ') : ''),
    getOptions: () => {
      const roles = [...(catalog.index.roles || [])];
      if (role && !roles.includes(role)) roles.unshift(role);
      return [{ value: '', label: t('none') }, ...roles.map((r) => ({ value: r, label: r }))];
    } });
}

function laneEntries(catalog) {
  return [{ id: 'spiff-lane-role', component: LaneRole, isEdited: isSelectEntryEdited, catalog }];
}

function group(id, label, entries) {
  return entries.length ? { id, label, entries } : null;
}

export default class SpiffPropertiesProvider {
  constructor(propertiesPanel, spiffCatalog) {
    this.catalog = spiffCatalog;
    propertiesPanel.registerProvider(400, this);
  }

  getGroups(element) {
    return (groups) => {
      const bo = getBusinessObject(element);
      const catalog = this.catalog;
      const add = [];
      if (is(bo, 'bpmn:UserTask')) {
        add.push(group('spiff-form', t('g_form'), [
          formEntry('spiff-form-schema', 'formJsonSchemaFilename', '.schema.json', catalog),
          formEntry('spiff-form-uischema', 'formUiSchemaFilename', '.uischema.json', catalog)]));
      }
      if (is(bo, 'bpmn:UserTask') || is(bo, 'bpmn:ManualTask')) {
        add.push(group('spiff-instructions', t('g_instructions'), instructionsEntries()));
      }
      if (is(bo, 'bpmn:UserTask')) {
        add.push(group('spiff-duties', t(N_('Four eyes')), [
          { id: 'spiff-exclude-performers', component: ExcludedPerformers, isEdited: isTextFieldEntryEdited }]));
      }
      if (is(bo, 'bpmn:ServiceTask')) add.push(group('spiff-operator', t('g_operator'), operatorEntries(element, catalog)));
      if (is(bo, 'bpmn:ScriptTask')) add.push(group('spiff-script', t('g_script'), [scriptEntry()]));
      if (is(bo, 'bpmn:BusinessRuleTask')) {
        add.push(group('spiff-decision', t('g_decision'), [pickEntry('spiff-called-decision', t('called_decision'),
          null, 'decisions', catalog, 'spiffworkflow:CalledDecisionId')]));
      }
      if (is(bo, 'bpmn:CallActivity')) {
        add.push(group('spiff-call', t('g_call'), [pickEntry('spiff-called-element', t('called_process'),
          'calledElement', 'processes', catalog)]));
      }
      if (is(bo, 'bpmn:SequenceFlow') && bo.sourceRef && (is(bo.sourceRef, 'bpmn:ExclusiveGateway')
          || is(bo.sourceRef, 'bpmn:InclusiveGateway'))) {
        add.push(group('spiff-condition', t('g_condition'), [conditionEntry()]));
      }
      add.push(group('spiff-message', t('g_message'), messageEntries(element, catalog)));
      add.push(group('spiff-timer', t('g_timer'), timerEntries(element)));
      if (is(bo, 'bpmn:Lane')) add.push(group('spiff-lane', t('g_lane'), laneEntries(catalog)));
      if (is(bo, 'bpmn:Activity')) {
        add.push(group('spiff-scripts', t('g_scripts'), [
          bodyExtEntry({ id: 'spiff-pre-script', type: 'spiffworkflow:PreScript', label: t('pre_script') }),
          bodyExtEntry({ id: 'spiff-post-script', type: 'spiffworkflow:PostScript', label: t('post_script') })]));
      }
      // bpmn-js's own message and timer groups would edit the same properties without the dialect
      const mine = add.filter(Boolean);
      const replaced = new Set(mine.map((g) => ({ 'spiff-message': 'message', 'spiff-timer': 'timer' })[g.id]).filter(Boolean));
      const kept = groups.filter((g) => !replaced.has(g.id));
      const general = kept.findIndex((g) => g.id === 'general');
      kept.splice(general + 1, 0, ...mine);
      return kept;
    };
  }
}
SpiffPropertiesProvider.$inject = ['propertiesPanel', 'spiffCatalog'];
