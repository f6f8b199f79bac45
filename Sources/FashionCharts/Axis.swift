import Foundation

/// A linear or logarithmic axis with "nice" ticks (1, 2, 5 × 10ᵏ).
struct Axis {
    let lower: Double
    let upper: Double
    let logarithmic: Bool
    let ticks: [Double]

    /// Values beyond this magnitude are drawn at it: the span between two of them, and the ticks'
    /// arithmetic, stay finite.
    static let largestValue = 1e300
    /// The most ticks an axis makes, whatever the values: tick loops are bounded, never a stride over a
    /// span the step cannot cross (1e38 + 1 == 1e38).
    static let maxTicks = 50

    /// An axis covering `values` (non-finite ignored); log scale when asked and all values are positive.
    /// Any values (huge, tiny, all equal) give a finite axis with `lower < upper` and at most `maxTicks` ticks.
    init(covering values: [Double], logarithmic wantLog: Bool = false, includeZero: Bool = false, tickCount: Int = 5) {
        var finite = values.filter(\.isFinite).map { min(max($0, -Axis.largestValue), Axis.largestValue) }
        if includeZero { finite.append(0) }
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        let tickCount = max(1, min(tickCount, Axis.maxTicks))
        if wantLog, low > 0 {
            logarithmic = true
            // Decades of normal doubles only: 10^-307 … 10^300, so 10^k never rounds to 0 or infinity.
            let lo = min(max(floor(log10(low)), -307), 299)
            let hi = min(max(ceil(log10(high)), lo + 1), 300)
            lower = pow(10, lo)
            upper = pow(10, hi)
            let decades = Int(hi - lo)
            let stride = max(1, Int((Double(decades) / Double(tickCount)).rounded(.up)))
            ticks = Swift.stride(from: Int(lo), through: Int(hi), by: stride).map { pow(10, Double($0)) }
        } else {
            logarithmic = false
            var lo = low, hi = high
            // A span too small to divide (all values equal, or equal to the precision of a double this
            // large) is widened around them by at least half a unit, or 5% of their magnitude.
            let magnitude = max(abs(lo), abs(hi))
            if hi - lo < max(1e-12, magnitude * 1e-9) {
                let pad = max(0.5, magnitude * 0.05)
                lo -= pad
                hi += pad
            }
            let step = Axis.niceStep((hi - lo) / Double(tickCount))
            var first = floor(lo / step), last = ceil(hi / step)
            if !(last - first >= 1 && last - first <= Double(Axis.maxTicks)) {
                // Cannot happen for a nice step of a finite span; kept so no input can loop or crash.
                first = 0; last = 1
                lower = lo; upper = hi
                ticks = [lo, hi]
                return
            }
            lower = first * step
            upper = last * step
            let count = Int(last - first)
            ticks = (0...count).map { (first + Double($0)) * step }
        }
    }

    /// A fixed linear axis.
    init(lower: Double, upper: Double, ticks: [Double]) {
        self.lower = lower
        self.upper = upper
        self.logarithmic = false
        self.ticks = ticks
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// Where `value` falls, 0 at `lower` and 1 at `upper`.
    func fraction(_ value: Double) -> Double {
        guard upper > lower else { return 0.5 }
        if logarithmic { return (log10(max(value, lower)) - log10(lower)) / (log10(upper) - log10(lower)) }
        return (value - lower) / (upper - lower)
    }

    /// A short label: 0.25, 1.5k, 1e-4, 40%.
    func label(_ value: Double, percent: Bool = false) -> String {
        if percent { return "\(Axis.trim(value * 100))%" }
        guard value.isFinite else { return "\(value)" }
        if logarithmic, value > 0 {
            let exponent = Int(log10(value).rounded())
            return (-2...3).contains(exponent) ? Axis.trim(value) : "1e\(exponent)"
        }
        if abs(value) >= 1e6 { return String(format: "%.3g", value) }
        if abs(value) >= 10_000 { return Axis.trim(value / 1000) + "k" }
        return Axis.trim(value)
    }

    static func trim(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        var text = String(format: "%.4g", value)
        if text.contains("e") { return text }
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
