// Imports BPMN files through bpmn-moddle with the spiffworkflow descriptor and writes them back.
// Usage: node web/frontend/roundtrip.mjs OUT_DIR FILE.bpmn...  (prints warnings as JSON lines on stderr)
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BpmnModdle } from 'bpmn-moddle';

const spiffworkflow = JSON.parse(
  readFileSync(new URL('./src/spiffworkflow-moddle.json', import.meta.url), 'utf8'));

const [outDir, ...files] = process.argv.slice(2);
const moddle = new BpmnModdle({ spiffworkflow });
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
