/* Names on a bpmn-js Viewer's diagram in the reader's language. The page's
   #diagram-texts JSON block maps English names to the reader's words (empty in English).
   ``attach(viewer)``, called before importXML, gives each element, lane and external label
   whose business object has such a name the translated name as soon as the XML is read, so
   the diagram is drawn once, in the reader's words. ``translate(viewer)``, after importXML,
   renames and draws the named elements again (for a viewer that cannot be attached first).
   The BPMN file itself is untouched. */
(function () {
  "use strict";

  function texts() {
    var block = document.getElementById("diagram-texts");
    try { return block ? JSON.parse(block.textContent) || {} : {}; } catch (e) { return {}; }
  }

  function has(words, name) { return typeof name === "string" && Object.prototype.hasOwnProperty.call(words, name); }

  function attach(viewer) {
    var words = texts();
    if (!Object.keys(words).length) { return; }  /* an English page: nothing to rename */
    viewer.on("import.parse.complete", function (event) {
      var byId = event.elementsById || {};
      Object.keys(byId).forEach(function (id) {
        var bo = byId[id];
        if (bo && has(words, bo.name)) { bo.name = words[bo.name]; }
      });
    });
  }

  function translate(viewer) {
    var words = texts(), registry = viewer.get("elementRegistry"), graphics = viewer.get("graphicsFactory");
    if (!Object.keys(words).length) { return; }  /* an English page: nothing to draw again */
    var renamed = new Set();
    registry.getAll().forEach(function (element) {
      var bo = element.businessObject;
      if (!element.parent || !bo || !bo.name) { return; }
      if (!renamed.has(bo) && has(words, bo.name)) {
        bo.name = words[bo.name];
        renamed.add(bo);
      }
      if (renamed.has(bo)) {
        graphics.update(element.waypoints ? "connection" : "shape", element, registry.getGraphics(element));
      }
    });
  }

  window.diagramLabels = { attach: attach, translate: translate };
}());
