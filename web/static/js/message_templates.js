/* The ticket page's message form: picking a template fills subject and body at once from the
   texts the page carries (filled on the server from the ticket, in the customer's language), so
   the agent reads and edits them before sending. Without JavaScript the "Fill in" button asks the
   server for the same page with the template filled. For SMS the character count and the number
   of messages follow the typing (GSM 7-bit: 160, or 153 per part; otherwise 70, or 67). */
(function () {
  "use strict";

  var GSM = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ!"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;

  function smsParts(text) {
    var n = text.length;
    var gsm = GSM.test(text);
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    return [n, n === 0 ? 0 : (n <= single ? 1 : Math.ceil(n / multi))];
  }

  function start() {
    var picker = document.getElementById("ws-template");
    var data = document.getElementById("ws-template-texts");
    var used = document.getElementById("ws-template-used");
    var subject = document.getElementById("ws-subject");
    var body = document.getElementById("ws-body");
    var channel = document.getElementById("ws-channel");
    var count = document.getElementById("ws-sms-count");
    if (!body) { return; }

    function recount() {
      if (!count) { return; }
      var chosen = channel ? channel.value : "";
      count.hidden = (chosen || count.getAttribute("data-default-channel")) !== "sms";
      var parts = smsParts(body.value);
      count.textContent = count.getAttribute("data-text").replace("{n}", parts[0]).replace("{parts}", parts[1]);
    }

    function showError(text) {
      var field = picker.closest(".field");
      var old = document.getElementById("err-template");
      if (old) { old.remove(); }
      field.classList.toggle("has-error", !!text);
      if (text) {
        var error = document.createElement("span");
        error.className = "field-error";
        error.id = "err-template";
        error.setAttribute("role", "alert");
        error.textContent = text;
        picker.insertAdjacentElement("afterend", error);
        picker.setAttribute("aria-invalid", "true");
        picker.setAttribute("aria-describedby", "err-template");
      } else {
        picker.removeAttribute("aria-invalid");
        picker.removeAttribute("aria-describedby");
      }
    }

    if (picker && data) {
      var texts = JSON.parse(data.textContent || "{}");
      var fill = document.getElementById("ws-template-fill");
      if (fill) { fill.remove(); }  // the page's texts are here: no round trip needed
      picker.addEventListener("change", function () {
        var text = texts[picker.value];
        showError("");
        if (!picker.value) { used.value = ""; return; }
        if (!text || text.error) {
          used.value = "";
          showError(text ? text.error : "");
          return;
        }
        used.value = picker.value;
        if (subject) { subject.value = text.subject || subject.value; }
        body.value = text.body;
        body.rows = 12;
        recount();
        body.focus();
      });
    }
    body.addEventListener("input", recount);
    if (channel) { channel.addEventListener("change", recount); }
    recount();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
