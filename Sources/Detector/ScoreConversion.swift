import Foundation

/// How a model's class outputs become probabilities.
public enum ScoreConversion: Sendable, Equatable {
    /// Independent sigmoids of logits * scale (TF OD API "SIGMOID" score converter).
    case sigmoid(logitScale: Float)
    /// Softmax over all columns (background included) of logits * scale.
    case softmax(logitScale: Float)
    /// The outputs already are probabilities (e.g. a softmax inside the graph).
    case identity

    /// Converts a flat [anchors x columns] array.
    public func apply(_ raw: [Float], columns: Int) -> [Float] {
        precondition(columns > 0 && raw.count % columns == 0)
        switch self {
        case .identity:
            return raw
        case let .sigmoid(scale):
            return raw.map { Float(1 / (1 + exp(-Double($0 * scale)))) }
        case let .softmax(scale):
            var out = [Float](repeating: 0, count: raw.count)
            for row in stride(from: 0, to: raw.count, by: columns) {
                let logits = raw[row..<row + columns].map { Double($0 * scale) }
                let top = logits.max()!
                let exps = logits.map { exp($0 - top) }  // shifted for stability
                let sum = exps.reduce(0, +)
                for c in 0..<columns { out[row + c] = Float(exps[c] / sum) }
            }
            return out
        }
    }
}
