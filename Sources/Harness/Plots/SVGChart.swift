import Foundation

/// A small SVG chart writer: axes with ticks, scatter points with labels, polylines, shaded bands.
/// Plots are data first: every chart is rebuilt from the raw files by `ssd-energy report`.
public struct SVGChart {
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) { self.x = x; self.y = y }
    }

    public struct Series {
        public var name: String
        public var points: [Point]
        public var color: String
        public var drawLine: Bool
        public var drawMarkers: Bool
        /// One label per point (empty string for none).
        public var labels: [String]
        public var dashed: Bool

        public init(name: String, points: [Point], color: String, drawLine: Bool = false,
                    drawMarkers: Bool = true, labels: [String] = [], dashed: Bool = false) {
            self.name = name; self.points = points; self.color = color; self.drawLine = drawLine
            self.drawMarkers = drawMarkers; self.labels = labels; self.dashed = dashed
        }
    }

    /// A vertical band over an x range (a run phase such as idle or measure).
    public struct Band {
        public var from: Double
        public var to: Double
        public var label: String
        public var color: String
        public init(from: Double, to: Double, label: String, color: String) {
            self.from = from; self.to = to; self.label = label; self.color = color
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    public var bands: [Band] = []
    /// A line of small print under the chart (where the numbers come from).
    public var footnote: String = ""
    public var width: Double = 760
    public var height: Double = 480

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
    }

    private let margin = (left: 80.0, right: 170.0, top: 40.0, bottom: 90.0)

    public func render() -> String {
        let allPoints = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        var xs = allPoints.map(\.x) + bands.flatMap { [$0.from, $0.to] }
        var ys = allPoints.map(\.y)
        if xs.isEmpty { xs = [0, 1] }
        if ys.isEmpty { ys = [0, 1] }
        let xRange = Self.niceRange(xs.min()!, xs.max()!)
        let yRange = Self.niceRange(ys.min()!, ys.max()!)
        // The legend column is as wide as its longest name, so no name is cut off.
        let legendWidth = max(margin.right, 35 + 6.6 * Double(series.map(\.name.count).max() ?? 0))
        let width = self.width - margin.right + legendWidth
        let plotW = self.width - margin.left - margin.right
        let plotH = height - margin.top - margin.bottom
        func px(_ x: Double) -> Double { margin.left + (x - xRange.lo) / (xRange.hi - xRange.lo) * plotW }
        func py(_ y: Double) -> Double { margin.top + plotH - (y - yRange.lo) / (yRange.hi - yRange.lo) * plotH }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(width))" height="\(fmt(height))" \
            viewBox="0 0 \(fmt(width)) \(fmt(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(fmt(width / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

            """
        for band in bands {
            let x0 = px(max(band.from, xRange.lo)), x1 = px(min(band.to, xRange.hi))
            guard x1 > x0 else { continue }
            svg += "<rect x=\"\(fmt(x0))\" y=\"\(fmt(margin.top))\" width=\"\(fmt(x1 - x0))\" "
                + "height=\"\(fmt(plotH))\" fill=\"\(band.color)\" fill-opacity=\"0.15\"/>\n"
            // Narrow bands stay unlabelled (the footnote names the colours) rather than overprint.
            if x1 - x0 >= 6.5 * Double(band.label.count) {
                svg += "<text x=\"\(fmt((x0 + x1) / 2))\" y=\"\(fmt(margin.top + 14))\" text-anchor=\"middle\" "
                    + "fill=\"#555\">\(escape(band.label))</text>\n"
            }
        }
        // Axes and ticks.
        svg += "<g stroke=\"#333\" fill=\"none\"><rect x=\"\(fmt(margin.left))\" y=\"\(fmt(margin.top))\" "
            + "width=\"\(fmt(plotW))\" height=\"\(fmt(plotH))\"/></g>\n"
        for tick in Self.ticks(xRange) {
            let x = px(tick)
            svg += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(margin.top + plotH))\" x2=\"\(fmt(x))\" "
                + "y2=\"\(fmt(margin.top + plotH + 5))\" stroke=\"#333\"/>"
            svg += "<text x=\"\(fmt(x))\" y=\"\(fmt(margin.top + plotH + 18))\" text-anchor=\"middle\">"
                + "\(Self.tickLabel(tick))</text>\n"
        }
        for tick in Self.ticks(yRange) {
            let y = py(tick)
            svg += "<line x1=\"\(fmt(margin.left - 5))\" y1=\"\(fmt(y))\" x2=\"\(fmt(margin.left))\" "
                + "y2=\"\(fmt(y))\" stroke=\"#333\"/>"
            svg += "<line x1=\"\(fmt(margin.left))\" y1=\"\(fmt(y))\" x2=\"\(fmt(margin.left + plotW))\" "
                + "y2=\"\(fmt(y))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(fmt(margin.left - 8))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">"
                + "\(Self.tickLabel(tick))</text>\n"
        }
        svg += "<text x=\"\(fmt(margin.left + plotW / 2))\" y=\"\(fmt(margin.top + plotH + 38))\" "
            + "text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(18 \(fmt(margin.top + plotH / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\">\(escape(yLabel))</text>\n"

        // Labels keep clear of every marker and of the labels drawn before them.
        var placedLabels: [LabelBox] = series.filter(\.drawMarkers).flatMap { s in
            s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { LabelBox.marker(x: px($0.x), y: py($0.y)) }
        }
        for s in series {
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            if s.drawLine, pts.count > 1 {
                let path = pts.map { "\(fmt(px($0.x))),\(fmt(py($0.y)))" }.joined(separator: " ")
                svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\""
                    + (s.dashed ? " stroke-dasharray=\"5 4\"" : "") + "/>\n"
            }
            if s.drawMarkers {
                for (i, p) in s.points.enumerated() where p.x.isFinite && p.y.isFinite {
                    svg += "<circle cx=\"\(fmt(px(p.x)))\" cy=\"\(fmt(py(p.y)))\" r=\"4\" fill=\"\(s.color)\"/>"
                    if i < s.labels.count, !s.labels[i].isEmpty {
                        // Labels of points in the right third prefer their left, clear of the legend.
                        let preferLeft = px(p.x) > margin.left + plotW * 0.66
                        let box = LabelBox.place(s.labels[i], pointX: px(p.x), pointY: py(p.y),
                                                 preferLeft: preferLeft, avoiding: placedLabels,
                                                 within: margin.left...(margin.left + plotW))
                        placedLabels.append(box)
                        svg += "<text x=\"\(fmt(box.anchorX))\" y=\"\(fmt(box.baselineY))\" "
                            + "font-size=\"10\"\(box.endAnchored ? " text-anchor=\"end\"" : "")>\(escape(s.labels[i]))</text>"
                    }
                    svg += "\n"
                }
            }
        }
        // Legend.
        var ly = margin.top + 10
        for s in series {
            let lx = margin.left + plotW + 15
            svg += "<rect x=\"\(fmt(lx))\" y=\"\(fmt(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(s.color)\"/>"
            svg += "<text x=\"\(fmt(lx + 15))\" y=\"\(fmt(ly))\">\(escape(s.name))</text>\n"
            ly += 18
        }
        // The footnote says where the numbers come from; wrap it rather than cut it off.
        let footLines = Self.wrap(footnote, width: Int((width - margin.left) / 5.6))
        for (i, line) in footLines.enumerated() {
            let y = height - 8 - Double(footLines.count - 1 - i) * 12
            svg += "<text x=\"\(fmt(margin.left))\" y=\"\(fmt(y))\" font-size=\"10\" fill=\"#555\">"
                + "\(escape(line))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// Greedy word wrap to lines of at most `width` characters (a longer word gets a line of its own).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    struct AxisRange: Equatable { var lo: Double; var hi: Double; var step: Double }

    /// A range that starts and ends on round numbers, with about five ticks.
    static func niceRange(_ lo: Double, _ hi: Double) -> AxisRange {
        var lo = lo, hi = hi
        if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        let rawStep = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(rawStep)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rawStep } ?? 10 * magnitude
        return AxisRange(lo: floor(lo / step) * step, hi: ceil(hi / step) * step, step: step)
    }

    static func ticks(_ r: AxisRange) -> [Double] {
        let n = Int(((r.hi - r.lo) / r.step).rounded())
        return (0...max(n, 0)).map { r.lo + Double($0) * r.step }
    }

    static func tickLabel(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e4 || abs(v) < 1e-3 { return String(format: "%.2g", v) }
        var s = String(format: "%.4f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// Where a point's label goes: beside the point, above or below, right or left, the first place inside
/// the plot that does not overprint a marker or a label already drawn (close points otherwise print
/// their names on each other).
struct LabelBox {
    var anchorX: Double, baselineY: Double, endAnchored: Bool
    var left: Double, right: Double, top: Double, bottom: Double

    /// Average glyph width of the 10 px sans-serif labels, generous so estimates err towards a gap.
    static let characterWidth = 5.8

    static func place(_ text: String, pointX: Double, pointY: Double, preferLeft: Bool,
                      avoiding placed: [LabelBox], within horizontal: ClosedRange<Double>? = nil) -> LabelBox {
        let width = Double(text.count) * characterWidth
        func box(_ leftSide: Bool, _ below: Bool) -> LabelBox {
            let anchorX = pointX + (leftSide ? -6 : 6)
            let baselineY = pointY + (below ? 14 : -6)
            return LabelBox(anchorX: anchorX, baselineY: baselineY, endAnchored: leftSide,
                            left: leftSide ? anchorX - width : anchorX, right: leftSide ? anchorX : anchorX + width,
                            top: baselineY - 9, bottom: baselineY + 2)
        }
        let sides = preferLeft ? [true, false] : [false, true]
        let candidates = [box(sides[0], false), box(sides[0], true), box(sides[1], false), box(sides[1], true)]
        // Fewest collisions wins, in the order above; leaving the plot (into the legend) counts as many.
        func cost(_ c: LabelBox) -> Int {
            let outside = horizontal.map { c.left < $0.lowerBound || c.right > $0.upperBound } ?? false
            return placed.filter { c.overlaps($0) }.count + (outside ? 100 : 0)
        }
        return candidates.enumerated().min { (cost($0.element), $0.offset) < (cost($1.element), $1.offset) }!.element
    }

    /// The 4 px marker of a point, as an obstacle (a label's own point never overlaps its label box).
    static func marker(x: Double, y: Double) -> LabelBox {
        LabelBox(anchorX: x, baselineY: y, endAnchored: false, left: x - 4, right: x + 4, top: y - 4, bottom: y + 4)
    }

    func overlaps(_ other: LabelBox) -> Bool {
        left < other.right && other.left < right && top < other.bottom && other.top < bottom
    }
}
