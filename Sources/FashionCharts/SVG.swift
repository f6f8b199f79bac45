import FashionCore
import Foundation

/// A small SVG writer: shapes and text appended in drawing order, rendered as one standalone
/// `<svg>` element with no external assets (fonts fall back to the system's sans-serif).
public struct SVG: Sendable {
    public let width: Double
    public let height: Double
    private var elements: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    public enum Anchor: String, Sendable { case start, middle, end }

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                              stroke: String? = nil, opacity: Double = 1, title: String? = nil) {
        var attributes = "x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(max(0, width)))\" height=\"\(f(max(0, height)))\" fill=\"\(fill)\""
        if let stroke { attributes += " stroke=\"\(stroke)\"" }
        if opacity < 1 { attributes += " fill-opacity=\"\(f(opacity))\"" }
        if let title {
            elements.append("<rect \(attributes)><title>\(Self.escape(title))</title></rect>")
        } else {
            elements.append("<rect \(attributes)/>")
        }
    }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                              width: Double = 1, dash: String? = nil) {
        elements.append("<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>")
    }

    /// An open polyline; callers split it at gaps themselves.
    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2) {
        guard points.count >= 2 else { return }
        let list = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>")
    }

    /// A closed, filled path (for histograms).
    public mutating func polygon(_ points: [(Double, Double)], fill: String, opacity: Double, stroke: String) {
        guard points.count >= 3 else { return }
        let list = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        elements.append("<polygon points=\"\(list)\" fill=\"\(fill)\" fill-opacity=\"\(f(opacity))\" stroke=\"\(stroke)\" stroke-width=\"1.2\" stroke-linejoin=\"round\"/>")
    }

    public mutating func circle(_ cx: Double, _ cy: Double, radius: Double, fill: String, stroke: String? = nil, title: String? = nil) {
        let attributes = "cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"\(f(radius))\" fill=\"\(fill)\"\(stroke.map { " stroke=\"\($0)\"" } ?? "")"
        if let title {
            elements.append("<circle \(attributes)><title>\(Self.escape(title))</title></circle>")
        } else {
            elements.append("<circle \(attributes)/>")
        }
    }

    public mutating func text(_ string: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                              weight: String? = nil, fill: String = "#222", rotate: Double? = nil) {
        var attributes = "x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(f(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(fill)\""
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        if let rotate { attributes += " transform=\"rotate(\(f(rotate)) \(f(x)) \(f(y)))\"" }
        elements.append("<text \(attributes)>\(Self.escape(string))</text>")
    }

    /// The document.
    public func render() -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif">
        <rect width="100%" height="100%" fill="#ffffff"/>
        \(elements.joined(separator: "\n"))
        </svg>

        """
    }

    /// Escapes text for XML, by Unicode scalar (`Markup.escape(_:)`, the one escaper for HTML and SVG).
    public static func escape(_ text: String) -> String { Markup.escape(text) }

    /// An estimate of the rendered width of `text` in a sans-serif font, used to keep labels apart.
    public static func textWidth(_ text: String, size: Double) -> Double {
        Double(text.count) * size * 0.58
    }

    private func f(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
