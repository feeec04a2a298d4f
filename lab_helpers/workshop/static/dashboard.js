// The workshop dashboard: fetch the room's JSON every few seconds and redraw only what changed.
"use strict";

(function () {
  const drawn = new Map(); // check name -> the figure JSON last drawn
  let lastVersion = null;

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  function ago(seconds) {
    if (seconds < 60) return Math.round(seconds) + " s ago";
    if (seconds < 3600) return Math.round(seconds / 60) + " min ago";
    return (seconds / 3600).toFixed(1) + " h ago";
  }

  function drawLearners(room) {
    const body = document.querySelector("#learners tbody");
    const rows = [];
    for (const p of room.learners) {
      const tr = document.createElement("tr");
      tr.dataset.learner = p.learner;
      tr.appendChild(text("td", p.learner));
      tr.appendChild(text("td", p.passed, "num"));
      const failing = text("td", p.failing, "num" + (p.failing ? " failing" : ""));
      failing.title = p.failing_checks.join(", ");
      tr.appendChild(failing);
      tr.appendChild(text("td", p.failures, "num"));
      tr.appendChild(text("td", p.to_be_graded, "num"));
      tr.appendChild(text("td", p.not_started, "num"));
      tr.appendChild(text("td", ago(p.seen_s_ago)));
      const running = p.resources.map((r) => r.kind + " " + r.name + (r.su_per_hour ? " (" + r.su_per_hour + " SU/h)" : ""));
      tr.appendChild(text("td", running.length ? running.join(", ") : "nothing"));
      tr.appendChild(text("td", p.su_per_hour, "num"));
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  function drawChecks(room) {
    const holder = document.getElementById("figures");
    let lab = null;
    for (const check of room.checks) {
      let box = document.getElementById("check-" + check.name);
      if (!box) {
        if (check.lab !== lab && !document.getElementById("lab-" + check.lab)) {
          const heading = text("h3", "Lab " + check.lab, "lab-heading");
          heading.id = "lab-" + check.lab;
          holder.appendChild(heading);
        }
        box = document.createElement("div");
        box.id = "check-" + check.name;
        box.className = "check-figure";
        box.dataset.check = check.name;
        holder.appendChild(box);
      }
      lab = check.lab;
      const json = JSON.stringify(check.figure);
      if (drawn.get(check.name) !== json) {
        Plotly.react(box, check.figure.data, check.figure.layout, { displayModeBar: false, responsive: true });
        drawn.set(check.name, json);
      }
      box.dataset.passed = check.passed;
      box.dataset.failing = check.failing;
    }
  }

  async function refresh() {
    try {
      const response = await fetch("api/room", { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.status === 401) {
        window.location.reload(); // signed out elsewhere: show the sign-in page
        return;
      }
      if (!response.ok) throw new Error("the workshop answered " + response.status);
      const room = await response.json();
      if (room.version !== lastVersion) {
        drawLearners(room);
        drawChecks(room);
        lastVersion = room.version;
      }
      document.getElementById("summary").textContent =
        room.learners.length + " learners, " + room.results + " results, " + room.su_per_hour + " SU/hour still running.";
      const stuck = document.getElementById("stuck");
      stuck.textContent = room.stuck.length
        ? "Where the room is stuck (most learners failing): " + room.stuck.join(", ")
        : "Nobody is failing a check right now.";
      document.getElementById("updated").textContent = "Updated " + new Date().toLocaleTimeString() + ".";
      document.getElementById("updated").dataset.results = room.results;
      document.getElementById("refresh-error").textContent = "";
    } catch (err) {
      document.getElementById("refresh-error").textContent = "Could not refresh (" + err.message + "); trying again.";
    }
  }

  async function rotate() {
    if (!window.confirm("Learners who have not joined yet will need the new token. Rotate it?")) return;
    const response = await fetch("api/join-token", { method: "POST", credentials: "same-origin" });
    const body = await response.json();
    document.getElementById("join-token").textContent = response.ok ? "New join token: " + body.join_token : body.error;
  }

  document.getElementById("rotate").addEventListener("click", rotate);
  refresh();
  setInterval(refresh, window.WORKSHOP_REFRESH_MS || 3000);
})();
