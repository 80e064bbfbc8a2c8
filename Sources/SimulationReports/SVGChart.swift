import Foundation

/// A chart drawn as inline SVG: axes with ticks and units, a legend, lines (with an
/// optional 95 % band), bars, or points with error bars. No scripts, no fonts to fetch.
struct SVGChart {
    struct Series {
        var name: String
        var color: String
        /// (x, y) points, drawn as a line, or as points when `points` is set.
        var values: [(x: Double, y: Double)]
        /// Optional (x, low, high) band or error bars.
        var band: [(x: Double, low: Double, high: Double)] = []
        var points = false
        var dashed = false
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// x positions to mark with a vertical line and a label (e.g. the chosen candidate).
    var marks: [(x: Double, label: String)] = []
    /// Start the y axis at zero (counts); otherwise fit it to the data (objectives).
    var zeroBased = true
    /// Leave a margin left and right of the outermost x values (points rather than lines).
    var padX = false
    var width = 640.0
    var height = 300.0

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]

    var svg: String {
        let left = 70.0, right = 150.0, top = 34.0, bottom = 46.0
        let plotW = width - left - right, plotH = height - top - bottom
        let xs = series.flatMap { $0.values.map(\.x) } + marks.map(\.x)
        let ys = series.flatMap { s in s.values.map(\.y) + s.band.flatMap { [$0.low, $0.high] } }
        var (xMin, xMax) = (xs.min() ?? 0, xs.max() ?? 1)
        // Counts never go below zero: neither do their confidence bands' drawings.
        let nonNegative = series.allSatisfy { $0.values.allSatisfy { $0.y >= 0 } }
        var (yMin, yMax) = (nonNegative && zeroBased ? 0 : min(zeroBased ? 0 : .infinity, ys.min() ?? 0), ys.max() ?? 1)
        if !zeroBased, yMax > yMin { (yMin, yMax) = (yMin - 0.05 * (yMax - yMin), yMax + 0.05 * (yMax - yMin)) }
        if xMax == xMin { (xMin, xMax) = (xMin - 1, xMax + 1) }
        if padX { (xMin, xMax) = (xMin - 0.06 * (xMax - xMin), xMax + 0.06 * (xMax - xMin)) }
        if yMax == yMin { (yMin, yMax) = (yMin - 1, yMax + 1) }
        let yTicks = Self.ticks(yMin, yMax), xTicks = Self.ticks(xMin, xMax)
        yMin = min(yMin, yTicks.first ?? yMin)
        yMax = max(yMax, yTicks.last ?? yMax)
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (max(y, yMin) - yMin) / (yMax - yMin) * plotH }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(Self.escape(title))\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(Int(left))\" y=\"20\" font-size=\"15\" font-weight=\"bold\">\(Self.escape(title))</text>\n"
        // Grid and ticks.
        for t in yTicks where t >= yMin && t <= yMax {
            out += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(py(t)))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" font-size=\"11\" text-anchor=\"end\">\(Self.label(t))</text>\n"
        }
        for t in xTicks where t >= xMin && t <= xMax {
            out += "<line x1=\"\(f(px(t)))\" x2=\"\(f(px(t)))\" y1=\"\(f(top + plotH))\" y2=\"\(f(top + plotH + 4))\" stroke=\"#333\"/>"
            out += "<text x=\"\(f(px(t)))\" y=\"\(f(top + plotH + 17))\" font-size=\"11\" text-anchor=\"middle\">\(Self.label(t))</text>\n"
        }
        out += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(top + plotH))\" y2=\"\(f(top + plotH))\" stroke=\"#333\"/>"
        out += "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(top + plotH))\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" font-size=\"12\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        out += "<text transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        for mark in marks {
            out += "<line x1=\"\(f(px(mark.x)))\" x2=\"\(f(px(mark.x)))\" y1=\"\(f(top))\" y2=\"\(f(top + plotH))\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>"
            out += "<text x=\"\(f(px(mark.x) + 4))\" y=\"\(f(top + 12))\" font-size=\"11\">\(Self.escape(mark.label))</text>\n"
        }
        for s in series {
            if !s.points, s.band.count > 1 {
                let upper = s.band.map { "\(f(px($0.x))),\(f(py($0.high)))" }
                let lower = s.band.reversed().map { "\(f(px($0.x))),\(f(py($0.low)))" }
                out += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(s.color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
            }
            if s.points {
                for b in s.band {
                    out += "<line x1=\"\(f(px(b.x)))\" x2=\"\(f(px(b.x)))\" y1=\"\(f(py(b.low)))\" y2=\"\(f(py(b.high)))\" stroke=\"\(s.color)\"/>"
                }
                for v in s.values { out += "<circle cx=\"\(f(px(v.x)))\" cy=\"\(f(py(v.y)))\" r=\"3.5\" fill=\"\(s.color)\"/>" }
                out += "\n"
            } else if !s.values.isEmpty {
                let path = s.values.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
            }
        }
        // Legend.
        for (k, s) in series.enumerated() {
            let y = top + 8 + Double(k) * 18
            out += "<rect x=\"\(f(left + plotW + 12))\" y=\"\(f(y - 8))\" width=\"14\" height=\"10\" fill=\"\(s.color)\"/>"
            out += "<text x=\"\(f(left + plotW + 31))\" y=\"\(f(y + 1))\" font-size=\"11\">\(Self.escape(s.name))</text>\n"
        }
        return out + "</svg>"
    }

    func f(_ x: Double) -> String { String(format: "%.1f", x) }

    /// About five round tick values covering lo...hi.
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let span = hi - lo
        guard span > 0, span.isFinite else { return [lo] }
        let raw = span / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = floor(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 0.5, out.count < 20 {
            out.append(t)
            t += step
        }
        return out
    }

    static func label(_ x: Double) -> String {
        let a = abs(x)
        if a >= 1e7 { return String(format: "%.3g cr", x / 1e7) }
        if a >= 1e5 { return String(format: "%.3g L", x / 1e5) }
        if x == x.rounded() { return String(Int(x)) }
        return String(format: "%.3g", x)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
