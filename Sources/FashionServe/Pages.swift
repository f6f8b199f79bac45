import Foundation
import FashionCore
import HTTPTypes
import Hummingbird

/// The HTML pages: a frame the server writes (title, navigation, the language toggle, empty places for data) and
/// the script (``Assets/script``) that fills them from `/api` and keeps them live. Every text from a file or a
/// request reaches the HTML through `Markup.escape`; the script writes data with `textContent`, never as markup.
enum Pages {
    /// No inline script, nothing from elsewhere: the page may load only the server's own script, styles,
    /// data URLs (the 28×28 input) and `/api`.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

    /// The runs list: every run with its status and numbers, the study and lab reports, ticks to compare.
    static func index(_ words: DashboardWords) -> Response {
        page("index", title: words["title"], words: words, address: "/") {
            """
            <section><h2>\(e(words["runs"]))</h2>
            <form id="compare-form" action="/compare" method="get">
            <input type="hidden" name="lang" value="\(e(words.code))">
            <div class="scroll"><table id="runs"><thead><tr><th></th><th>\(e(words["run"]))</th><th>\(e(words["status"]))</th>
            <th>\(e(words["epochs"]))</th><th>\(e(words["trainLoss"]))</th><th>\(e(words["trainAcc"]))</th>
            <th>\(e(words["valLoss"]))</th><th>\(e(words["valAcc"]))</th><th>\(e(words["time"]))</th><th>\(e(words["settings"]))</th></tr></thead>
            <tbody></tbody></table></div>
            <p id="no-runs" class="note" hidden>\(e(words["noRuns"]))</p>
            <p><button type="submit" id="compare-button">\(e(words["compareSelected"]))</button></p>
            </form></section>
            <section id="reports-section" hidden><h2>\(e(words["reports"]))</h2><ul id="reports"></ul></section>
            """
        }
    }

    /// One run: status and settings, the curves (live), weight histograms, confusion matrix and per-class accuracy.
    static func run(_ id: String, words: DashboardWords) -> Response {
        page("run", title: id, words: words, address: "/runs/" + pathQuery(id), data: id) {
            """
            <section><h2 id="run-title">\(e(id))</h2>
            <p><span id="status" class="status"></span> <span id="epoch-count"></span> · <span id="settings"></span></p>
            <div class="scroll"><table id="numbers"><thead><tr><th>\(e(words["epochs"]))</th><th>\(e(words["trainLoss"]))</th>
            <th>\(e(words["trainAcc"]))</th><th>\(e(words["valLoss"]))</th><th>\(e(words["valAcc"]))</th><th>\(e(words["testAcc"]))</th>
            <th>\(e(words["time"]))</th><th>\(e(words["updated"]))</th></tr></thead><tbody><tr></tr></tbody></table></div>
            <p><a id="predict-link" href="/predict?run=\(e(query(id)))&amp;lang=\(e(words.code))">\(e(words["predict"]))</a>
             · <a id="report-link" href="/files/\(e(pathQuery(id)))/report.html" hidden>\(e(words["report"]))</a></p>
            </section>
            <section><h2>\(e(words["curves"]))</h2><p class="note">\(e(words["curvesCaption"]))</p><div id="curves" class="chart"></div></section>
            <section><h2>\(e(words["weights"]))</h2><div id="weights" class="chart"></div></section>
            <section><h2>\(e(words["confusion"]))</h2><div class="pair"><div id="confusion" class="chart"></div>
            <table id="per-class"><thead><tr><th>\(e(words["class"]))</th><th>\(e(words["accuracy"]))</th></tr></thead><tbody></tbody></table></div></section>
            """
        }
    }

    /// The ticked runs' curves overlaid.
    static func compare(_ ids: [String], words: DashboardWords) -> Response {
        page("compare", title: words["compareTitle"], words: words,
             address: "/compare?" + ids.map { "run=" + query($0) }.joined(separator: "&"), data: ids.joined(separator: "\n")) {
            """
            <section><h2>\(e(words["compareTitle"]))</h2><ul id="compared">\(ids.map { "<li><a href=\"/runs/\(e(pathQuery($0)))?lang=\(e(words.code))\">\(e($0))</a></li>" }.joined())</ul>
            <div id="curves" class="chart"></div></section>
            """
        }
    }

    /// Try a model: pick a run, drop or choose a photo, or draw; the top 3 and the 28×28 input.
    static func predict(_ selected: String?, words: DashboardWords) -> Response {
        page("predict", title: words["predict"], words: words, address: "/predict" + (selected.map { "?run=" + query($0) } ?? ""),
             data: selected ?? "") {
            """
            <section><h2>\(e(words["predict"]))</h2>
            <p><label for="model">\(e(words["chooseModel"]))</label> <select id="model"></select></p>
            <p id="no-models" class="note" hidden>\(e(words["noModels"]))</p>
            <div class="pair"><div>
            <div id="drop" class="drop"><p>\(e(words["dropHere"]))</p><input type="file" id="file" accept="image/jpeg,image/png,.jpg,.jpeg,.png,.pgm">
            <p class="note">\(e(words["limits"]))</p></div>
            <p>\(e(words["orDraw"]))</p><canvas id="canvas" width="280" height="280"></canvas>
            <p><button type="button" id="classify-drawing">\(e(words["classifyDrawing"]))</button> <button type="button" id="clear">\(e(words["clear"]))</button></p>
            </div><div id="result">
            <p id="message" role="status"></p>
            <h3>\(e(words["top3"]))</h3><ol id="top"></ol>
            <h3>\(e(words["modelSaw"]))</h3><img id="input" alt="" width="168" height="168">
            </div></div></section>
            """
        }
    }

    // MARK: The frame

    /// A page of `kind` at `address` (its path and query without `lang`, for the language toggle); `data` is what the
    /// script works on (the run's id; the compared ids, one a line; the run to predict with).
    private static func page(_ kind: String, title: String, words: DashboardWords, address: String, data: String = "", body: () -> String) -> Response {
        let other = words.code == "vi" ? "en" : "vi"
        let toggle = address + (address.contains("?") ? "&" : "?") + "lang=" + other
        let wordsJSON = (try? JSONSerialization.data(withJSONObject: words.table, options: [.sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let html = """
            <!DOCTYPE html>
            <html lang="\(e(words.code))"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title)) · FashionLab</title><link rel="stylesheet" href="/assets/app.css"><link rel="icon" href="data:,">
            </head><body data-page="\(e(kind))" data-lang="\(e(words.code))" data-subject="\(e(data))">
            <header><h1><a href="/?lang=\(e(words.code))">FashionLab</a></h1><nav>
            <a href="/?lang=\(e(words.code))">\(e(words["back"]))</a>
            <a href="/predict?lang=\(e(words.code))">\(e(words["predict"]))</a>
            <a href="\(e(toggle))" lang="\(e(other))">\(e(words["language"]))</a>
            <span id="live" class="live">\(e(words["offline"]))</span></nav></header>
            <main>
            \(body())
            </main>
            <script type="application/json" id="words">\(wordsJSON.replacingOccurrences(of: "<", with: "\\u003c"))</script>
            <script src="/assets/app.js"></script>
            </body></html>
            """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: contentSecurityPolicy,
                                               .cacheControl: "no-store", HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func e(_ text: String) -> String { Markup.escape(text) }

    /// A value for a query string: everything but unreserved characters percent-encoded.
    static func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    /// A run id in a path: each name percent-encoded, the slashes between them kept.
    static func pathQuery(_ id: String) -> String {
        id.split(separator: "/", omittingEmptySubsequences: false).map { query(String($0)) }.joined(separator: "/")
    }
}
