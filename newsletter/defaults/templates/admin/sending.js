// The progress page of a send: fetch the ledger's numbers every two seconds while the
// send runs, and reload the page once it ends (for the right buttons). Without this
// script the page has a "Refresh" link; nothing here is needed to send or pause.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || box.getAttribute("data-running") !== "1") { return; }
  var url = box.getAttribute("data-status-url");
  var note = document.getElementById("live-note");
  if (note) { note.textContent = ""; }
  function show(data) {
    document.getElementById("bar").value = data.percent;
    document.getElementById("percent").textContent = data.percent + " %";
    document.getElementById("total").textContent = data.total;
    Object.keys(data.counts).forEach(function (status) {
      var cell = box.querySelector('td[data-status="' + status + '"]');
      if (cell) { cell.textContent = data.counts[status]; }
    });
    if (!data.running) { window.location.replace(window.location.pathname); return; }
    window.setTimeout(poll, 2000);
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(show)
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
}());
