import FashionCore
import Foundation

/// One self-contained HTML page: inline CSS, inline SVG charts, images as data URIs, no JavaScript.
/// Readable offline, on a laptop or a phone, and in print.
public struct ReportPage: Sendable {
    public var title: String
    public var subtitle: String?
    /// The `lang` attribute: "en" or "vi".
    public var language = "en"
    public var sections: [ReportSection] = []

    public init(title: String, subtitle: String? = nil, language: String = "en") {
        self.title = title
        self.subtitle = subtitle
        self.language = language
    }

    /// The page needs nothing from outside and runs no script: charts are inline SVG, images data
    /// URIs, the style inline. Whatever text slipped past escaping could load or run nothing.
    public static let contentSecurityPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

    public func html() -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="\(escape(language))">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="\(Self.contentSecurityPolicy)">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>\(Self.css)</style>
        </head>
        <body>
        <header><h1>\(escape(title))</h1>
        """
        if let subtitle { out += "<p class=\"subtitle\">\(escape(subtitle))</p>" }
        if sections.count > 2 {
            out += "<nav>" + sections.map { "<a href=\"#\(escape($0.id))\">\(escape($0.heading))</a>" }.joined(separator: " · ") + "</nav>"
        }
        out += "</header>\n<main>\n"
        for section in sections { out += section.html() }
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    static let css = """
    :root { color-scheme: light; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif; color: #1d1d1f; background: #f4f5f7; }
    header { background: #1f3a5f; color: #fff; padding: 28px max(16px, calc(50% - 480px)) 20px; }
    header h1 { margin: 0 0 6px; font-size: 1.8em; }
    .subtitle { margin: 0; opacity: .85; }
    nav { margin-top: 12px; font-size: .92em; }
    nav a { color: #cfe3ff; text-decoration: none; }
    main { max-width: 960px; margin: 0 auto; padding: 8px 16px 48px; }
    section { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.08); padding: 18px 22px; margin: 18px 0; }
    h2 { margin: 0 0 10px; font-size: 1.35em; color: #1f3a5f; }
    p { margin: 8px 0; }
    .finding { background: #eef6ee; border-left: 4px solid #2ca02c; padding: 8px 12px; border-radius: 4px; }
    .warning { background: #fdf1e6; border-left: 4px solid #e6550d; padding: 8px 12px; border-radius: 4px; }
    figure { margin: 14px 0; text-align: center; }
    figure svg, figure img { max-width: 100%; height: auto; }
    figure img { image-rendering: pixelated; }
    figcaption { font-size: .9em; color: #555; margin-top: 4px; }
    .table-wrap { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; font-size: .93em; margin: 10px 0; }
    th, td { padding: 6px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; white-space: nowrap; }
    th { background: #f0f3f7; white-space: normal; vertical-align: bottom; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    dl.env { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
    dl.env dt { font-weight: 600; color: #444; }
    dl.env dd { margin: 0; }
    @media (max-width: 600px) { body { font-size: 15px; } section { padding: 14px 12px; } }
    @media print { body { background: #fff; } header { background: #fff; color: #000; } nav { display: none; }
      section { box-shadow: none; break-inside: avoid; border: 1px solid #ddd; } }
    """
}

/// A section of a report: a heading, paragraphs, figures, a table, key–value facts.
public struct ReportSection: Sendable {
    public enum Figure: Sendable {
        /// Inline SVG markup and a caption.
        case svg(String, caption: String)
        /// PNG bytes (embedded as a data URI), alternative text and a caption.
        case png([UInt8], alt: String, caption: String)
    }

    public enum Paragraph: Sendable {
        case text(String)
        case finding(String)
        case warning(String)
    }

    public var id: String
    public var heading: String
    public var paragraphs: [Paragraph] = []
    public var figures: [Figure] = []
    /// Column headers and rows; numeric-looking cells are right-aligned.
    public var table: (headers: [String], rows: [[String]])?
    public var facts: [(String, String)] = []

    public init(id: String, heading: String) {
        self.id = id
        self.heading = heading
    }

    func html() -> String {
        var out = "<section id=\"\(escape(id))\">\n<h2>\(escape(heading))</h2>\n"
        for paragraph in paragraphs {
            switch paragraph {
            case .text(let text): out += "<p>\(escape(text))</p>\n"
            case .finding(let text): out += "<p class=\"finding\">\(escape(text))</p>\n"
            case .warning(let text): out += "<p class=\"warning\">\(escape(text))</p>\n"
            }
        }
        if let table {
            out += "<div class=\"table-wrap\"><table>\n<thead><tr>" + table.headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            for row in table.rows {
                out += "<tr>" + row.map { cell in
                    let numeric = cell.first.map { $0.isNumber || $0 == "−" || $0 == "-" } ?? false
                    return numeric ? "<td class=\"num\">\(escape(cell))</td>" : "<td>\(escape(cell))</td>"
                }.joined() + "</tr>\n"
            }
            out += "</tbody></table></div>\n"
        }
        for figure in figures {
            switch figure {
            case let .svg(markup, caption):
                out += "<figure>\n\(markup)<figcaption>\(escape(caption))</figcaption></figure>\n"
            case let .png(bytes, alt, caption):
                out += "<figure><img alt=\"\(escape(alt))\" src=\"data:image/png;base64,\(Data(bytes).base64EncodedString())\">"
                out += "<figcaption>\(escape(caption))</figcaption></figure>\n"
            }
        }
        if !facts.isEmpty {
            out += "<dl class=\"env\">" + facts.map { "<dt>\(escape($0.0))</dt><dd>\(escape($0.1))</dd>" }.joined() + "</dl>\n"
        }
        return out + "</section>\n"
    }
}

private func escape(_ text: String) -> String { Markup.escape(text) }
