"""The web page at ``/``: pick a model, drop or choose images, see each one's top 5 as bars,
the latency, and (ticked) the Grad-CAM heat map over each image. Plain HTML and a little
JavaScript served by the server itself (no CDN: the machines it runs on may be offline); it
calls ``POST /v1/models/NAME:predict-image`` and ``:explain``.

Example:
    >>> "<select" in page_html(["mnist_convnet"])
    True
"""

from __future__ import annotations

import html

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zoo serve</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 15px system-ui, sans-serif; margin: 2em auto; max-width: 56em; color: #222; }
#drop { border: 2px dashed #888; border-radius: 8px; padding: 2em; text-align: center; }
#drop.over { background: #eef; }
.result { display: flex; gap: 1em; margin: 1em 0; align-items: flex-start; }
.result img { max-width: 160px; max-height: 160px; border: 1px solid #ccc; }
.bar { background: #4a7bd0; height: 1em; display: inline-block; vertical-align: middle; }
table { border-collapse: collapse; } td { padding: 0.1em 0.5em; }
.error { color: #b00; }
</style></head>
<body>
<h1>zoo serve</h1>
<p><label>Model <select id="model">OPTIONS</select></label>
<label>API key <input id="key" type="password" size="16"
  placeholder="if the server has one"></label>
<label><input id="gradcam" type="checkbox"> Grad-CAM</label></p>
<div id="drop">Drop images here, or <input id="files" type="file" accept="image/*" multiple></div>
<p id="status"></p>
<div id="results"></div>
<script>
const drop = document.getElementById("drop");
const statusLine = document.getElementById("status");
function show(file, answer) {
  const box = document.createElement("div");
  box.className = "result";
  const img = document.createElement("img");
  img.src = URL.createObjectURL(file);
  box.appendChild(img);
  const table = document.createElement("table");
  if (answer.error) {
    table.innerHTML = "";
    const cell = table.insertRow().insertCell();
    cell.className = "error";
    cell.textContent = answer.error;
  } else {
    for (const entry of answer.top) {
      const row = table.insertRow();
      row.className = "prediction";
      row.insertCell().textContent = entry.label;
      const bar = row.insertCell();
      const span = document.createElement("span");
      span.className = "bar";
      span.style.width = Math.round(200 * entry.score) + "px";
      bar.appendChild(span);
      row.insertCell().textContent = (100 * entry.score).toFixed(1) + " %";
    }
  }
  box.appendChild(table);
  document.getElementById("results").prepend(box);
  return box;
}
async function explain(model, file, box, headers) {
  const form = new FormData();
  form.append("image", file, file.name);
  const response = await fetch("/v1/models/" + encodeURIComponent(model) + ":explain",
                               {method: "POST", body: form, headers: headers});
  const answer = await response.json();
  const img = document.createElement("img");
  img.className = "heat";
  img.title = "Grad-CAM of " + answer.label + " on " + answer.stage;
  img.src = "data:image/png;base64," + answer.overlay_png;
  box.insertBefore(img, box.children[1]);
}
async function send(files) {
  if (!files.length) return;
  const model = document.getElementById("model").value;
  const form = new FormData();
  for (const file of files) form.append("image", file, file.name);
  const headers = {};
  const key = document.getElementById("key").value;
  if (key) headers["Authorization"] = "Bearer " + key;
  statusLine.textContent = "predicting " + files.length + " image(s)...";
  const started = performance.now();
  try {
    const response = await fetch("/v1/models/" + encodeURIComponent(model) + ":predict-image?top=5",
                                 {method: "POST", body: form, headers: headers});
    const answer = await response.json();
    const ms = performance.now() - started;
    if (!answer.predictions) { statusLine.textContent = answer.error; return; }
    const boxes = answer.predictions.map((entry, i) => show(files[i], entry));
    statusLine.textContent = model + ": " + files.length + " image(s) in " + ms.toFixed(0) + " ms";
    if (document.getElementById("gradcam").checked) {
      for (let i = 0; i < files.length; i++) {
        if (!answer.predictions[i].error) await explain(model, files[i], boxes[i], headers);
      }
    }
  } catch (error) {
    statusLine.textContent = "failed: " + error;
  }
}
document.getElementById("files").addEventListener("change", e => send([...e.target.files]));
drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", e => {
  e.preventDefault(); drop.classList.remove("over"); send([...e.dataTransfer.files]);
});
</script>
</body></html>
"""


def page_html(models: list[str]) -> str:
    """The page, with ``models`` to choose from."""
    options = "".join(f'<option value="{html.escape(m)}">{html.escape(m)}</option>' for m in models)
    return PAGE.replace("OPTIONS", options)
