// Imports BPMN files through bpmn-moddle with the spiffworkflow descriptor and writes them back.
// Usage: node web/frontend/roundtrip.mjs [--plain] OUT_DIR FILE.bpmn...  (warnings as JSON lines on stderr)
// --plain: without the spiffworkflow descriptor, as bpmn.io or Camunda Modeler read a file.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BpmnModdle } from 'bpmn-moddle';

const spiffworkflow = JSON.parse(
  readFileSync(new URL('./src/spiffworkflow-moddle.json', import.meta.url), 'utf8'));

const args = process.argv.slice(2);
const plain = args[0] === '--plain';
const [outDir, ...files] = plain ? args.slice(1) : args;
const moddle = new BpmnModdle(plain ? {} : { spiffworkflow });
let failed = 0;
for (const file of files) {
  const { rootElement, warnings } = await moddle.fromXML(readFileSync(file, 'utf8'));
  for (const w of warnings) {
    failed += 1;
    console.error(JSON.stringify({ file, warning: w.message }));
  }
  const { xml } = await moddle.toXML(rootElement, { format: true });
  writeFileSync(join(outDir, basename(file)), xml);
}
process.exit(failed ? 1 : 0);
