import Foundation

/// A linear or logarithmic axis with "nice" ticks (1, 2, 5 × 10ᵏ).
struct Axis {
    let lower: Double
    let upper: Double
    let logarithmic: Bool
    let ticks: [Double]

    /// An axis covering `values` (non-finite ignored); log scale when asked and all values are positive.
    init(covering values: [Double], logarithmic wantLog: Bool = false, includeZero: Bool = false, tickCount: Int = 5) {
        var finite = values.filter(\.isFinite)
        if includeZero { finite.append(0) }
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        if wantLog, low > 0 {
            logarithmic = true
            let lo = floor(log10(low)), hi = max(ceil(log10(high)), lo + 1)
            lower = pow(10, lo)
            upper = pow(10, hi)
            let decades = Int(hi - lo)
            let stride = max(1, Int((Double(decades) / Double(tickCount)).rounded(.up)))
            ticks = Swift.stride(from: Int(lo), through: Int(hi), by: stride).map { pow(10, Double($0)) }
        } else {
            logarithmic = false
            var lo = low, hi = high
            if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
            let step = Axis.niceStep((hi - lo) / Double(tickCount))
            lower = floor(lo / step) * step
            upper = ceil(hi / step) * step
            ticks = Swift.stride(from: lower, through: upper + step * 0.5, by: step).map { ($0 / step).rounded() * step }
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
        if logarithmic { return (log10(max(value, lower)) - log10(lower)) / (log10(upper) - log10(lower)) }
        return (value - lower) / (upper - lower)
    }

    /// A short label: 0.25, 1.5k, 1e-4, 40%.
    func label(_ value: Double, percent: Bool = false) -> String {
        if percent { return "\(Axis.trim(value * 100))%" }
        if logarithmic {
            let exponent = Int(log10(value).rounded())
            return (-2...3).contains(exponent) ? Axis.trim(value) : "1e\(exponent)"
        }
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
