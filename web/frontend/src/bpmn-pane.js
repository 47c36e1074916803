// The BPMN pane: bpmn-js Modeler, its properties panel and the spiffworkflow provider.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import { BpmnModdle } from 'bpmn-moddle';
import { diff } from 'bpmn-js-differ';
import spiffworkflow from './spiffworkflow-moddle.json';
import SpiffPropertiesProvider from './spiff-provider.js';
import { gettext } from './i18n.js';

// The words of bpmn-js, its properties panel and dmn-js that the editor shows, marked for
// `pybabel extract` (domain js); their Chinese is in web/translations/zh/LC_MESSAGES/js.po.
const N_ = (text) => text;
export const LIBRARY_TEXTS = [
  N_('General'), N_('Name'), N_('ID'), N_('Documentation'), N_('Element documentation'), N_('Process documentation'),
  N_('Executable'), N_('Process ID'), N_('Process name'), N_('Message'), N_('Timer'), N_('Condition'),
  N_('Append task'), N_('Connect using sequence/message flow or association'), N_('Create task'),
  N_('Create start event'), N_('Create end event'), N_('Create gateway'), N_('Activate hand tool'),
  N_('Activate lasso tool'), N_('Activate create/remove space tool'), N_('Activate global connect tool'),
  N_('Delete'), N_('Change element'), N_('Append end event'), N_('Append gateway'),
  N_('Append intermediate/boundary event'), N_('Create expanded sub-process'), N_('Create pool/participant'),
  N_('Create intermediate/boundary event'), N_('Service Task'), N_('User Task'), N_('Manual Task'),
  N_('Script Task'), N_('Business Rule Task'), N_('Receive Task'), N_('Send Task'), N_('Call Activity'), N_('Task'),
  N_('Exclusive Gateway'), N_('Parallel Gateway'), N_('Inclusive Gateway'), N_('Event-based Gateway'),
  N_('Sequence Flow'), N_('Lane'), N_('Participant'), N_('Collaboration'), N_('Process'), N_('Start Event'),
  N_('End Event'), N_('Boundary Event'), N_('Timer Boundary Event'), N_('Error Boundary Event'),
  N_('Message Boundary Event'), N_('Intermediate Catch Event'), N_('Intermediate Throw Event'), N_('Sub Process'),
  N_('Create data object reference'), N_('Create data store reference'), N_('Create group'), N_('When'), N_('And'),
  N_('Then'), N_('Hit policy:'), N_('Input'), N_('Output'), N_('Add input'), N_('Add output'), N_('Value'),
  N_('Equals'), N_('Less'), N_('Less or equals'), N_('Greater'), N_('Greater or equals'), N_('Between'), N_('Range'),
  N_('Include'), N_('Exclude'), N_('Input label: '), N_('Input expression: '), N_('Output label'), N_('Output name'),
  N_('Input values'), N_('Output values'), N_('Input type'), N_('Output type'),
  N_('Strings must be in double quotes'), N_('Expression language'), N_('Annotations'), N_('Add rule'),
  N_('Remove rule'), N_('Decision name'),
];

export function translate(template, replacements = {}) {
  const text = gettext(template);
  return text.replace(/{([^}]+)}/g, (_, key) => (key in replacements ? replacements[key] : `{${key}}`));
}

export const spiffModdle = spiffworkflow;

const OPEN_GROUPS = ['general', 'spiff-form', 'spiff-instructions', 'spiff-operator', 'spiff-script', 'spiff-condition',
  'spiff-decision', 'spiff-call', 'spiff-message', 'spiff-timer', 'spiff-lane', 'spiff-scripts'];

export function createBpmnModeler(canvas, props, catalog) {
  const spiffModule = {
    __init__: ['spiffPropertiesProvider'],
    spiffPropertiesProvider: ['type', SpiffPropertiesProvider],
    spiffCatalog: ['value', catalog],
    translate: ['value', translate],
  };
  return new BpmnModeler({
    container: canvas,
    propertiesPanel: { parent: props, layout: { groups: Object.fromEntries(OPEN_GROUPS.map((id) => [id, { open: true }])) } },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, spiffModule],
    moddleExtensions: { spiffworkflow },
  });
}

// Differences between two BPMN documents: {added, removed, changed, layout} as lists of element ids.
export async function diffBpmn(oldXml, newXml) {
  const moddle = new BpmnModdle({ spiffworkflow });
  const [before, after] = await Promise.all([moddle.fromXML(oldXml), moddle.fromXML(newXml)]);
  const result = diff(before.rootElement, after.rootElement);
  return {
    added: Object.keys(result._added || {}),
    removed: Object.keys(result._removed || {}),
    changed: Object.keys(result._changed || {}),
    layout: Object.keys(result._layoutChanged || {}),
  };
}
