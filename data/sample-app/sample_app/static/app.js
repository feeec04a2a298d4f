// The sample application's page: draw or pick a digit, POST it to the api, list the jobs.
// Every call is a relative path ("api/..."), so the page works behind any Ingress that sends
// /api to the api and / to this page.
"use strict";

// Four digits from scikit-learn's digits data set (8x8, grey levels 0..16).
const SAMPLES = {
  0: [0,0,5,13,9,1,0,0, 0,0,13,15,10,15,5,0, 0,3,15,2,0,11,8,0, 0,4,12,0,0,8,8,0,
      0,5,8,0,0,9,8,0, 0,4,11,0,1,12,7,0, 0,2,14,5,10,12,0,0, 0,0,6,13,10,0,0,0],
  3: [0,0,7,15,13,1,0,0, 0,8,13,6,15,4,0,0, 0,2,1,13,13,0,0,0, 0,0,2,15,11,1,0,0,
      0,0,0,1,12,12,1,0, 0,0,0,0,1,10,8,0, 0,0,8,4,5,14,9,0, 0,0,7,13,13,9,0,0],
  4: [0,0,0,1,11,0,0,0, 0,0,0,7,8,0,0,0, 0,0,1,13,6,2,2,0, 0,0,7,15,0,9,8,0,
      0,5,16,10,0,16,6,0, 0,4,15,16,13,16,1,0, 0,0,0,3,15,10,0,0, 0,0,0,2,16,4,0,0],
  7: [0,0,7,8,13,16,15,1, 0,0,7,7,4,11,12,0, 0,0,0,0,8,13,1,0, 0,4,8,8,15,15,6,0,
      0,2,11,15,15,4,0,0, 0,0,0,16,5,0,0,0, 0,0,9,15,1,0,0,0, 0,0,13,5,0,0,0,0],
};
const REFRESH_MS = 2000;
const pixels = new Array(64).fill(0);

function paint() {
  document.querySelectorAll("#digit-grid button").forEach((cell, i) => {
    const level = 255 - Math.round((pixels[i] / 16) * 255);
    cell.style.background = `rgb(${level},${level},${level})`;
  });
  document.getElementById("pixels").value = pixels.join(",");
}

function setPixels(values) {
  values.forEach((v, i) => { pixels[i] = v; });
  paint();
}

function buildGrid() {
  const grid = document.getElementById("digit-grid");
  for (let i = 0; i < 64; i++) {
    const cell = document.createElement("button");
    cell.type = "button";
    cell.dataset.index = String(i);
    cell.addEventListener("click", () => { pixels[i] = pixels[i] > 0 ? 0 : 16; paint(); });
    grid.appendChild(cell);
  }
  const samples = document.getElementById("samples");
  for (const [digit, values] of Object.entries(SAMPLES)) {
    const button = document.createElement("button");
    button.type = "button";
    button.id = `sample-${digit}`;
    button.textContent = digit;
    button.addEventListener("click", () => setPixels(values));
    samples.appendChild(button);
  }
  paint();
}

async function submit(event) {
  event.preventDefault();
  const message = document.getElementById("message");
  // The textarea wins when the learner pasted numbers into it; the api checks them.
  const values = document.getElementById("pixels").value.split(/[\s,]+/).filter((s) => s !== "").map(Number);
  const response = await fetch("api/jobs", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ pixels: values }),
  });
  const body = await response.json().catch(() => ({}));
  message.textContent = response.ok ? `job ${body.id} queued` : `not accepted: ${body.error || response.status}`;
  message.className = response.ok ? "" : "failed";
  refresh();
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function refresh() {
  try {
    const response = await fetch("api/jobs");
    if (!response.ok) throw new Error(`api answered ${response.status}`);
    const jobs = await response.json();
    const rows = jobs.map((job) => {
      const tr = document.createElement("tr");
      tr.dataset.jobId = job.id;
      tr.dataset.status = job.status;
      tr.className = job.status;
      const confidence = job.confidence === null ? "" : job.confidence.toFixed(3);
      [job.id.slice(0, 8), job.status, job.label ?? "", confidence, job.error ?? ""].forEach((t) => tr.appendChild(cell(t)));
      return tr;
    });
    document.querySelector("#jobs tbody").replaceChildren(...rows);
  } catch (error) {
    document.getElementById("message").textContent = `cannot list jobs: ${error.message}`;
  }
}

async function showVersion() {
  const response = await fetch("api/version").catch(() => null);
  if (response && response.ok) document.getElementById("api-version").textContent = (await response.json()).version;
}

buildGrid();
document.getElementById("digit-form").addEventListener("submit", submit);
refresh();
showVersion();
setInterval(refresh, REFRESH_MS);
