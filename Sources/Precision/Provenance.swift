import Foundation
import TFLiteModel

/// What a converted file was made from and how, stored in the file as the metadata entry
/// `ssd_energy_provenance` (a small JSON buffer) so every later report can say the model is derived.
public struct Provenance: Codable, Sendable, Equatable {
    public static let metadataName = "ssd_energy_provenance"

    /// fp32, fp16 or int8.
    public var precision: String
    /// File name of the model this one was converted from.
    public var source: String
    /// The source's own provenance, when it was itself converted by this tool.
    public var sourceProvenance: String?
    /// One sentence: what the conversion did.
    public var conversion: String
    /// Pixel p -> input value: (p - mean) / std. Set when the input changed type (uint8 -> float32).
    public var inputNormalisation: InputNormalisation?
    /// Int8 calibration: method, images used, folder.
    public var calibration: Calibration?
    public var tool: String = "ssd-energy quantize"

    public struct InputNormalisation: Codable, Sendable, Equatable {
        public var mean: Float
        public var std: Float
    }

    public struct Calibration: Codable, Sendable, Equatable {
        public var method: String
        public var samples: Int
        public var directory: String
    }

    public init(precision: String, source: String, sourceProvenance: String? = nil, conversion: String,
                inputNormalisation: InputNormalisation? = nil, calibration: Calibration? = nil) {
        self.precision = precision; self.source = source; self.sourceProvenance = sourceProvenance
        self.conversion = conversion; self.inputNormalisation = inputNormalisation; self.calibration = calibration
    }

    public func jsonBytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// The provenance JSON text stored in `model`, if it was written by this tool.
    public static func text(in model: TFLiteModel) -> String? {
        guard let entry = model.metadata.first(where: { $0.name == metadataName }) else { return nil }
        return String(decoding: model.bytes[model.buffers[entry.bufferIndex].range], as: UTF8.self)
    }
}

extension ModelDraft {
    /// Replaces any earlier provenance entry with `provenance`.
    mutating func record(_ provenance: Provenance) {
        metadata.removeAll { $0.name == Provenance.metadataName }
        metadata.append(Metadata(name: Provenance.metadataName, bytes: provenance.jsonBytes()))
    }
}
