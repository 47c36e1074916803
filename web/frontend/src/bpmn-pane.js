// The BPMN pane: bpmn-js Modeler, its properties panel and the spiffworkflow provider.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import { BpmnModdle } from 'bpmn-moddle';
import { diff } from 'bpmn-js-differ';
import spiffworkflow from './spiffworkflow-moddle.json';
import SpiffPropertiesProvider from './spiff-provider.js';
import { LANG } from './i18n.js';

const ZH = {
  General: '常规', Name: '名称', ID: 'ID', Documentation: '文档', 'Element documentation': '元素文档',
  'Process documentation': '流程文档', Executable: '可执行', 'Process ID': '流程 ID', 'Process name': '流程名称',
  Message: '消息', Timer: '定时器', Condition: '条件', 'Append task': '追加任务', 'Connect using sequence/message flow or association': '用顺序流连接',
  'Create task': '创建任务', 'Create start event': '创建开始事件', 'Create end event': '创建结束事件',
  'Create gateway': '创建网关', 'Activate hand tool': '抓手工具', 'Activate lasso tool': '套索工具',
  'Activate create/remove space tool': '空间工具', 'Activate global connect tool': '连接工具', Delete: '删除',
  'Change element': '更改元素', 'Append end event': '追加结束事件', 'Append gateway': '追加网关',
  'Append intermediate/boundary event': '追加中间事件', 'Create expanded sub-process': '创建子流程',
  'Create pool/participant': '创建池', 'Create intermediate/boundary event': '创建中间事件',
  'Service Task': '服务任务', 'User Task': '用户任务', 'Manual Task': '人工任务', 'Script Task': '脚本任务',
  'Business Rule Task': '业务规则任务', 'Receive Task': '接收任务', 'Send Task': '发送任务', 'Call Activity': '调用活动',
  Task: '任务', 'Exclusive Gateway': '排他网关', 'Parallel Gateway': '并行网关', 'Inclusive Gateway': '包容网关',
  'Event-based Gateway': '事件网关', 'Sequence Flow': '顺序流', Lane: '泳道', Participant: '池', Collaboration: '协作',
  Process: '流程', 'Start Event': '开始事件', 'End Event': '结束事件', 'Boundary Event': '边界事件',
  'Timer Boundary Event': '定时边界事件', 'Error Boundary Event': '错误边界事件', 'Message Boundary Event': '消息边界事件',
  'Intermediate Catch Event': '中间捕获事件', 'Intermediate Throw Event': '中间抛出事件', 'Sub Process': '子流程',
  'Create data object reference': '创建数据对象', 'Create data store reference': '创建数据存储', 'Create group': '创建分组',
};

// dmn-js's decision table words
Object.assign(ZH, {
  When: '当', And: '且', Then: '则', 'Hit policy:': '命中策略：', Input: '输入', Output: '输出', 'Add input': '添加输入',
  'Add output': '添加输出', Value: '值', Equals: '等于', Less: '小于', 'Less or equals': '小于等于', Greater: '大于',
  'Greater or equals': '大于等于', Between: '介于', Range: '范围', Include: '包含', Exclude: '排除',
  'Input label: ': '输入标签：', 'Input expression: ': '输入表达式：', 'Output label': '输出标签', 'Output name': '输出名称',
  'Input values': '输入值', 'Output values': '输出值', 'Input type': '输入类型', 'Output type': '输出类型',
  'Strings must be in double quotes': '字符串须用双引号', 'Expression language': '表达式语言', Annotations: '注释',
  'Add rule': '添加规则', 'Remove rule': '删除规则', 'Decision name': '决策名称',
});

export function translate(template, replacements = {}) {
  const text = LANG === 'zh' && ZH[template] ? ZH[template] : template;
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
