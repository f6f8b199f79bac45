/// The pages' style sheet and script, served by the binary itself (`/assets/app.css`, `/assets/app.js`): no CDN,
/// no web fonts, no build step. The script is small and plain: it fills the pages from `/api`, follows
/// `/api/events` (Server-Sent Events) to redraw what changed, and sends pictures to `/api/predict`. It writes
/// data into the page with `textContent` only; charts are the server's SVG, parsed as SVG and imported.
enum Assets {
    static let files: [String: (type: String, text: String)] = [
        "app.css": ("text/css; charset=utf-8", style),
        "app.js": ("text/javascript; charset=utf-8", script),
    ]

    static let style = """
        :root { --ink: #1d2330; --muted: #5b6473; --line: #d9dde4; --accent: #1f77b4; --bg: #f6f7f9; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1.5rem; padding: .7rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
        header h1 { font-size: 1.25rem; margin: 0; }
        header h1 a { color: var(--ink); text-decoration: none; }
        nav { display: flex; gap: 1.2rem; align-items: baseline; flex-wrap: wrap; }
        a { color: var(--accent); }
        main { max-width: 1180px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
        section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1.2rem 1rem; margin: 1rem 0; }
        h2 { font-size: 1.1rem; margin: .3rem 0 .6rem; word-break: break-all; }
        h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
        th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th { font-weight: 600; color: var(--muted); font-size: .85rem; }
        td.settings { white-space: normal; min-width: 18rem; color: var(--muted); font-size: .85rem; }
        .note { color: var(--muted); font-size: .9rem; }
        .status { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85rem; background: #eceff3; }
        .status.running { background: #dbeafe; color: #1e40af; }
        .status.finished { background: #dcfce7; color: #166534; }
        .status.diverged { background: #fee2e2; color: #991b1b; }
        .status.interrupted { background: #fef3c7; color: #92400e; }
        .status.unreadable { background: #f3e8ff; color: #6b21a8; }
        .status.model { background: #e0f2fe; color: #075985; }
        .live { font-size: .8rem; color: var(--muted); }
        .live.on::before { content: "● "; color: #16a34a; }
        .chart svg { max-width: 100%; height: auto; }
        .pair { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
        .pair > * { flex: 1 1 320px; }
        .drop { border: 2px dashed var(--line); border-radius: 8px; padding: 1rem; }
        .drop.over { border-color: var(--accent); background: #eef5fb; }
        canvas { border: 1px solid var(--line); border-radius: 4px; touch-action: none; background: #fff; max-width: 100%; }
        #input { image-rendering: pixelated; border: 1px solid var(--line); background: #000; }
        #top li { margin: .3rem 0; }
        .bar { display: block; height: .5rem; background: var(--accent); border-radius: .25rem; margin-top: .15rem; }
        button { font: inherit; padding: .35rem .9rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 5px; cursor: pointer; }
        button[type=button] { background: #fff; color: var(--accent); }
        select { font: inherit; padding: .25rem; max-width: 100%; }
        .error { color: #b91c1c; }
        """

    static let script = #"""
        "use strict";
        const W = JSON.parse(document.getElementById("words").textContent);
        const page = document.body.dataset.page, lang = document.body.dataset.lang, subject = document.body.dataset.subject;
        const $ = (selector) => document.querySelector(selector);

        // A run id in a path: each name encoded, the slashes kept.
        const idPath = (id) => id.split("/").map(encodeURIComponent).join("/");
        const decimal = (text) => lang === "vi" ? text.replace(".", ",") : text;
        const percent = (v) => v == null ? "–" : decimal((v * 100).toFixed(2)) + "%";
        const number = (v) => v == null ? "–" : decimal(Number(v).toFixed(4));
        const seconds = (v) => decimal(v.toFixed(1)) + " s";
        const finite = (v) => typeof v === "number" ? v : null;  // "nan", "inf" are strings in the history

        function cell(row, text, className) {
          const td = document.createElement("td");
          td.textContent = text;
          if (className) td.className = className;
          row.appendChild(td);
          return td;
        }
        function link(href, text) {
          const a = document.createElement("a");
          a.href = href; a.textContent = text;
          return a;
        }
        function statusBadge(element, status) {
          element.textContent = W[status] || status;
          element.className = "status " + status;
        }
        async function getJSON(url) {
          const response = await fetch(url, { cache: "no-store" });
          const body = await response.json();
          if (!response.ok) throw new Error(body.error || response.statusText);
          return body;
        }
        // Replaces the contents of `target` with the server's SVG chart, or a note saying why there is none.
        async function showSVG(url, target) {
          const response = await fetch(url, { cache: "no-store" });
          if (!response.ok) {
            let message = response.statusText;
            try { message = (await response.json()).error; } catch (e) {}
            const p = document.createElement("p");
            p.className = "note"; p.textContent = W.notYet + message;
            target.replaceChildren(p);
            return;
          }
          const svg = new DOMParser().parseFromString(await response.text(), "image/svg+xml").documentElement;
          if (svg.nodeName === "svg") target.replaceChildren(document.importNode(svg, true));
        }
        // Runs `work` now, or once more after the run in progress when asked again meanwhile.
        function coalesce(work) {
          let running = false, again = false;
          const go = async () => {
            if (running) { again = true; return; }
            running = true;
            try { await work(); } catch (e) { console.error(e); }
            running = false;
            if (again) { again = false; go(); }
          };
          return go;
        }
        // Follows /api/events: `runs` when the list changed, `run` with an id when a run did.
        function follow(onRuns, onRun) {
          const live = $("#live");
          const source = new EventSource("/api/events");
          source.onopen = () => { live.textContent = W.live; live.classList.add("on"); };
          source.onerror = () => { live.textContent = W.offline; live.classList.remove("on"); };
          source.addEventListener("runs", () => onRuns && onRuns());
          source.addEventListener("run", (event) => onRun && onRun(JSON.parse(event.data).id));
        }

        // The runs list.
        if (page === "index") {
          const show = coalesce(async () => {
            const list = await getJSON("/api/runs");
            const ticked = new Set([...document.querySelectorAll("#runs input:checked")].map((box) => box.value));
            const rows = list.runs.map((run) => {
              const row = document.createElement("tr");
              row.dataset.id = run.id;
              const box = document.createElement("input");
              box.type = "checkbox"; box.name = "run"; box.value = run.id; box.checked = ticked.has(run.id);
              box.setAttribute("aria-label", run.id);
              cell(row, "").appendChild(box);
              cell(row, "").appendChild(link("/runs/" + idPath(run.id) + "?lang=" + lang, run.id));
              statusBadge(cell(row, "").appendChild(document.createElement("span")), run.status);
              cell(row, run.epochs + (run.plannedEpochs ? " / " + run.plannedEpochs : ""));
              cell(row, number(run.trainLoss)); cell(row, percent(run.trainAccuracy));
              cell(row, number(run.validationLoss)); cell(row, percent(run.validationAccuracy));
              cell(row, seconds(run.seconds));
              cell(row, run.settings || run.problem || "", "settings");
              return row;
            });
            $("#runs tbody").replaceChildren(...rows);
            $("#no-runs").hidden = list.runs.length > 0;
            $("#reports-section").hidden = list.reports.length === 0;
            $("#reports").replaceChildren(...list.reports.map((report) => {
              const item = document.createElement("li");
              item.appendChild(link("/files/" + idPath(report.id) + "/" + report.file, report.id + "/" + report.file));
              return item;
            }));
          });
          show();
          follow(show, show);
        }

        // One run.
        if (page === "run") {
          const base = "/api/runs/" + idPath(subject);
          let shownEpochs = -1, shownStatus = "";
          const showModelCharts = coalesce(async () => {
            await showSVG(base + "/weights.svg?lang=" + lang, $("#weights"));
            await showSVG(base + "/confusion.svg?lang=" + lang, $("#confusion"));
            try {
              const result = await getJSON(base + "/confusion");
              $("#per-class tbody").replaceChildren(...result.classes.map((name, i) => {
                const row = document.createElement("tr");
                cell(row, name); cell(row, percent(result.accuracy[i]));
                return row;
              }));
            } catch (e) { $("#per-class tbody").replaceChildren(); }
          });
          const show = coalesce(async () => {
            const detail = await getJSON(base);
            const run = detail.run, epochs = (detail.history && detail.history.epochs) || [];
            statusBadge($("#status"), run.status);
            $("#epoch-count").textContent = W.epochs + ": " + run.epochs + (run.plannedEpochs ? " / " + run.plannedEpochs : "");
            $("#settings").textContent = run.settings || run.problem || "";
            const row = document.createElement("tr");
            cell(row, String(run.epochs)); cell(row, number(run.trainLoss)); cell(row, percent(run.trainAccuracy));
            cell(row, number(run.validationLoss)); cell(row, percent(run.validationAccuracy)); cell(row, percent(run.testAccuracy));
            cell(row, seconds(run.seconds)); cell(row, new Date(run.updated).toLocaleString(lang));
            $("#numbers tbody").replaceChildren(row);
            $("#report-link").hidden = !run.hasReport;
            await showSVG(base + "/curves.svg?lang=" + lang, $("#curves"));
            if (epochs.length !== shownEpochs || run.status !== shownStatus) {
              shownEpochs = epochs.length; shownStatus = run.status;
              if (run.hasModel) showModelCharts();
            }
          });
          show();
          follow(null, (id) => { if (id === subject) show(); });
        }

        // Runs compared.
        if (page === "compare") {
          const ids = subject.split("\n").filter((id) => id);
          const show = coalesce(() => showSVG("/api/compare.svg?" + ids.map((id) => "run=" + encodeURIComponent(id)).join("&") + "&lang=" + lang, $("#curves")));
          show();
          follow(null, (id) => { if (ids.includes(id)) show(); });
        }

        // Try a model.
        if (page === "predict") {
          const select = $("#model");
          const listModels = coalesce(async () => {
            const chosen = select.value || subject;
            const runs = (await getJSON("/api/runs")).runs.filter((run) => run.hasModel);
            select.replaceChildren(...runs.map((run) => {
              const option = document.createElement("option");
              option.value = run.id; option.textContent = run.id + " (" + (W[run.status] || run.status) + ", " + percent(run.validationAccuracy) + ")";
              option.selected = run.id === chosen;
              return option;
            }));
            $("#no-models").hidden = runs.length > 0;
          });
          listModels();
          follow(listModels, null);

          async function classify(blob) {
            const message = $("#message");
            message.className = ""; message.textContent = W.working;
            try {
              const response = await fetch("/api/predict?run=" + encodeURIComponent(select.value), {
                method: "POST", body: blob, headers: { "Content-Type": blob.type || "application/octet-stream" } });
              const result = await response.json();
              if (!response.ok) throw new Error(result.error || response.statusText);
              $("#top").replaceChildren(...result.top.map((guess) => {
                const item = document.createElement("li");
                const name = document.createElement("strong");
                name.className = "class-name"; name.textContent = guess.name;
                item.append(name, " " + percent(guess.probability));
                const bar = document.createElement("span");
                bar.className = "bar"; bar.style.width = Math.max(1, Math.round(guess.probability * 100)) + "%";
                item.appendChild(bar);
                return item;
              }));
              $("#input").src = result.input;
              message.textContent = "";
            } catch (error) {
              message.className = "error"; message.textContent = error.message;
            }
          }
          $("#file").addEventListener("change", (event) => { if (event.target.files[0]) classify(event.target.files[0]); });
          const drop = $("#drop");
          drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
          drop.addEventListener("dragleave", () => drop.classList.remove("over"));
          drop.addEventListener("drop", (event) => {
            event.preventDefault(); drop.classList.remove("over");
            if (event.dataTransfer.files[0]) classify(event.dataTransfer.files[0]);
          });

          // Drawing: dark strokes on white, as a photo of a garment on a light background (the picture is inverted
          // the way the dataset's were).
          const canvas = $("#canvas"), context = canvas.getContext("2d");
          const clear = () => { context.fillStyle = "#fff"; context.fillRect(0, 0, canvas.width, canvas.height); };
          clear();
          let drawing = false;
          const at = (event) => {
            const box = canvas.getBoundingClientRect();
            return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
          };
          canvas.addEventListener("pointerdown", (event) => {
            drawing = true; canvas.setPointerCapture(event.pointerId);
            context.beginPath(); context.moveTo(...at(event));
          });
          canvas.addEventListener("pointermove", (event) => {
            if (!drawing) return;
            context.lineWidth = 22; context.lineCap = "round"; context.lineJoin = "round"; context.strokeStyle = "#111";
            context.lineTo(...at(event)); context.stroke();
          });
          canvas.addEventListener("pointerup", () => { drawing = false; });
          $("#clear").addEventListener("click", clear);
          $("#classify-drawing").addEventListener("click", () => canvas.toBlob((blob) => classify(blob), "image/png"));
        }
        """#
}
