// Live pages: follow /api/v1/events (server-sent events; one LISTEN on the server fans out to
// every page) and re-fetch this page's fragment when one of its tasks changed. The event id is a
// cursor: EventSource sends it back on reconnect, and the server catches the page up.
(function () {
  "use strict";
  var body = document.body;
  var url = body.dataset.live;
  var state = document.getElementById("live-state");
  if (!url) { if (state) state.hidden = true; return; }
  var watch = (body.dataset.watch || "all").split(",");
  var busy = false, again = false, last = 0;

  function refresh() {
    if (busy) { again = true; return; }
    busy = true; last = Date.now();
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { document.getElementById("live").innerHTML = html; })
      .catch(function () {})
      .finally(function () { busy = false; if (again) { again = false; setTimeout(refresh, 300); } });
  }

  function concerns(data) {
    if (watch[0] === "all" || data.overflow) return true;
    return data.tasks.some(function (id) { return watch.indexOf(String(id)) >= 0; });
  }

  var source = new EventSource("/api/v1/events?since=" + encodeURIComponent(body.dataset.cursor || ""));
  source.addEventListener("open", function () { state.className = "live-state on"; state.title = "live"; });
  source.addEventListener("error", function () { state.className = "live-state off"; state.title = "reconnecting"; });
  source.addEventListener("change", function (event) {
    if (concerns(JSON.parse(event.data))) refresh();
  });
  // Ages and heartbeats move without any change: a slow refresh keeps them honest.
  setInterval(function () { if (Date.now() - last > 15000) refresh(); }, 5000);
})();
