/* Names on a bpmn-js Viewer's diagram in the reader's language. The page's
   #diagram-texts JSON block maps English names to the reader's words (empty in English);
   after importXML, each element, lane and external label whose business object has such
   a name gets the translated name and is drawn again. The BPMN file itself is untouched. */
(function () {
  "use strict";

  function texts() {
    var block = document.getElementById("diagram-texts");
    try { return block ? JSON.parse(block.textContent) || {} : {}; } catch (e) { return {}; }
  }

  function translate(viewer) {
    var words = texts(), registry = viewer.get("elementRegistry"), graphics = viewer.get("graphicsFactory");
    if (!Object.keys(words).length) { return; }  /* an English page: nothing to draw again */
    var renamed = new Set();
    registry.getAll().forEach(function (element) {
      var bo = element.businessObject;
      if (!element.parent || !bo || !bo.name) { return; }
      if (!renamed.has(bo) && Object.prototype.hasOwnProperty.call(words, bo.name)) {
        bo.name = words[bo.name];
        renamed.add(bo);
      }
      if (renamed.has(bo)) {
        graphics.update(element.waypoints ? "connection" : "shape", element, registry.getGraphics(element));
      }
    });
  }

  window.diagramLabels = { translate: translate };
}());
