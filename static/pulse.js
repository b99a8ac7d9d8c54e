// Pulse: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // The survey builder: a question's options field matters only for a choice
  // question, its driver only for an agreement (scale) question.
  function syncOptions(select) {
    var slot = select.closest(".question-slot");
    var options = slot && slot.querySelector(".options-field");
    if (options) options.hidden = select.value !== "choice";
    var driver = slot && slot.querySelector(".driver-field");
    if (driver) driver.hidden = select.value !== "scale";
  }
  document.querySelectorAll(".question-slot select[name$='_kind']").forEach(function (select) {
    syncOptions(select);
    select.addEventListener("change", function () { syncOptions(select); });
  });
  // A new 1:1 series: an empty time zone starts as the browser's own.
  var zone = document.querySelector("form[action='/one-on-ones/new'] input[name='timezone']");
  if (zone && !zone.value && window.Intl) {
    zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  }
})();
