/// A confusion matrix as a heat map: rows are true classes, columns predicted ones, each cell
/// shaded by its share of the row and labelled with its count.
public struct ConfusionMatrixChart: Sendable {
    public var title: String
    public var classNames: [String]
    /// counts[true][predicted].
    public var counts: [[Int]]
    public var words = ChartWords.english

    public init(title: String, classNames: [String], counts: [[Int]]) {
        self.title = title
        self.classNames = classNames
        self.counts = counts
    }

    public func svg() -> String {
        let n = classNames.count
        let cell = 46.0
        let labelWidth = (classNames.map { SVG.textWidth($0, size: 12) }.max() ?? 60) + 16
        let left = labelWidth + 28, top = 60.0
        let width = left + Double(n) * cell + 20
        let height = top + Double(n) * cell + labelWidth + 40
        var svg = SVG(width: width, height: height)
        svg.text(title, x: width / 2, y: 26, size: 17, anchor: .middle, weight: "bold")
        svg.text(words.truePredicted.1, x: left + Double(n) * cell / 2, y: top + Double(n) * cell + labelWidth + 30, size: 13, anchor: .middle)
        svg.text(words.truePredicted.0, x: 16, y: top + Double(n) * cell / 2, size: 13, anchor: .middle, rotate: -90)
        for row in 0..<n {
            let total = max(1, counts[row].reduce(0, +))
            svg.text(classNames[row], x: left - 8, y: top + (Double(row) + 0.5) * cell + 4, size: 12, anchor: .end)
            for column in 0..<n {
                let share = Double(counts[row][column]) / Double(total)
                // White to deep blue; diagonal in blue, errors in orange so they stand out.
                let color = row == column ? Self.shade(share, base: (31, 119, 180)) : Self.shade(min(1, share * 4), base: (230, 85, 13))
                svg.rect(x: left + Double(column) * cell, y: top + Double(row) * cell, width: cell - 1, height: cell - 1, fill: color,
                         title: "\(classNames[row]) → \(classNames[column]): \(counts[row][column])")
                let dark = row == column ? share > 0.45 : share * 4 > 0.6
                svg.text(String(counts[row][column]), x: left + (Double(column) + 0.5) * cell, y: top + (Double(row) + 0.5) * cell + 4,
                         size: 11, anchor: .middle, fill: dark ? "#ffffff" : "#333333")
            }
        }
        for column in 0..<n {
            let x = left + (Double(column) + 0.5) * cell + 4, y = top + Double(n) * cell + 8
            svg.text(classNames[column], x: x, y: y, size: 12, anchor: .end, rotate: -60)
        }
        return svg.render()
    }

    static func shade(_ amount: Double, base: (Int, Int, Int)) -> String {
        let t = max(0, min(1, amount))
        func mix(_ c: Int) -> Int { Int((255 - Double(255 - c) * t).rounded()) }
        let hex = [mix(base.0), mix(base.1), mix(base.2)].map { value -> String in
            let text = String(value, radix: 16)
            return text.count == 1 ? "0" + text : text
        }
        return "#" + hex.joined()
    }
}
