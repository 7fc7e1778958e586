// The task page's output: follow /api/v1/tasks/{id}/output (server-sent events; the server wakes
// on NOTIFY swarm_output) and append what comes, or replace it when a new attempt starts. The
// event id is a cursor: EventSource sends it back on reconnect and the server resumes there.
(function () {
  "use strict";
  var box = document.getElementById("output");
  var pre = document.getElementById("transcript");
  if (!box || !pre || !box.dataset.follow) return;
  var source = new EventSource(box.dataset.follow);
  source.addEventListener("output", function (event) {
    var data = JSON.parse(event.data);
    var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.textContent = data.replace ? data.text : pre.textContent + data.text;
    pre.hidden = pre.textContent === "";
    var none = document.getElementById("no-output");
    if (none && !pre.hidden) none.hidden = true;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  });
  source.addEventListener("end", function () { source.close(); });
})();
