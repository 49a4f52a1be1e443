import Detector
import Foundation
import TFLiteModel

/// A converted model as written: the .tflite and, beside it, the description that detect, eval and
/// run need to read its outputs (labels, anchors, box coder, NMS, input normalisation).
public struct WrittenDerivedModel: Sendable {
    public var modelPath: String
    /// nil when no description was written (the source had none).
    public var descriptionPath: String?
    public var byteCount: Int
    public var operatorCount: Int
    public var tensorCount: Int
    /// The provenance JSON stored in the file (`ssd_energy_provenance`).
    public var provenanceText: String?
}

/// Writes converted models so they can be used away from the source's folder.
///
/// Why a description file rather than having the resolver read the provenance: the provenance can
/// only say how the input changed, while a derived file placed elsewhere also lacks the labels,
/// anchors and box coder that the resolver finds beside the source. One `<out>.ssd.json` carries all
/// of it, in the format a user can read and edit, and the resolver already looks for it first.
public enum DerivedModelFiles {
    /// `<model without extension>.ssd.json`: where DescriptionResolver looks first.
    public static func descriptionPath(forModel path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(url.deletingPathExtension().lastPathComponent + ".ssd.json").path
    }

    /// The description a source model's detections are read with (see DescriptionResolver).
    public static func sourceDescription(of model: TFLiteModel, path: String,
                                         explicitDescription: String? = nil) throws -> ModelDescription {
        try DescriptionResolver.resolve(modelPath: path, explicitDescription: explicitDescription,
                                        graph: GraphSummary(model: model))
    }

    /// The source's description adjusted to the converted file: when the conversion turned a
    /// quantized image input into float32, the pixels must be normalised as the old quantization
    /// mapped them, (p - mean) / std from the provenance; everything else (labels, anchors, box
    /// coder, NMS) is the same network's and stays.
    public static func convertedDescription(_ source: ModelDescription, provenance: Provenance?) -> ModelDescription {
        var description = source
        if let normalisation = provenance?.inputNormalisation {
            description.preprocessing = InputPreprocessing(mean: normalisation.mean, std: normalisation.std)
        }
        return description
    }

    /// Serialises `draft`, reads it back with our own reader (a file that cannot load is never
    /// written), then writes the model and, given the source's description, `<out>.ssd.json`. Each
    /// file is written to a temporary name and renamed, so an interrupted write leaves no half file.
    public static func write(_ draft: ModelDraft, to outputPath: String,
                             sourceDescription: ModelDescription?) throws -> WrittenDerivedModel {
        let bytes = try draft.serialized()
        let check = try TFLiteModel(bytes: bytes, fileName: outputPath)
        let provenanceText = Provenance.text(in: check)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: outputPath), options: .atomic)
        } catch {
            throw ConversionError(file: outputPath, reason: "cannot be written: \(error.localizedDescription)")
        }
        var descriptionPath: String?
        if let sourceDescription {
            let provenance = provenanceText.flatMap { Provenance.decode(json: $0) }
            let description = convertedDescription(sourceDescription, provenance: provenance)
            let path = Self.descriptionPath(forModel: outputPath)
            do {
                try description.jsonData(describedBy: "ssd-energy quantize, from the description of the source model "
                                         + "(\(sourceDescription.source)) with the converted model's input normalisation")
                    .write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw ConversionError(file: path, reason: "cannot be written: \(error.localizedDescription)")
            }
            descriptionPath = path
        }
        return WrittenDerivedModel(modelPath: outputPath, descriptionPath: descriptionPath, byteCount: bytes.count,
                                   operatorCount: check.mainSubgraph.operators.count,
                                   tensorCount: check.mainSubgraph.tensors.count, provenanceText: provenanceText)
    }
}

extension Provenance {
    /// Reads the JSON that `jsonBytes()` writes; nil when it is not a provenance.
    public static func decode(json: String) -> Provenance? {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(Provenance.self, from: Data(json.utf8))
    }
}
