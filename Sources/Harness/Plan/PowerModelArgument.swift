import Foundation
import Telemetry

extension PowerModel {
    /// Parses the `--power-model` argument: `idle=W,busy=W` or `tdp=W`.
    public static func parse(argument: String) throws -> PowerModel {
        var values: [String: Double] = [:]
        for part in argument.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let watts = Double(pair[1]), watts.isFinite else {
                throw RunPlanError.invalid("--power-model \(argument): expected idle=W,busy=W or tdp=W")
            }
            values[pair[0].lowercased()] = watts
        }
        let model: PowerModel
        switch Set(values.keys) {
        case ["idle", "busy"]: model = .idleBusy(idleWatts: values["idle"]!, busyWatts: values["busy"]!)
        case ["tdp"]: model = .tdpTimesUtilisation(tdpWatts: values["tdp"]!)
        default: throw RunPlanError.invalid("--power-model \(argument): expected idle=W,busy=W or tdp=W")
        }
        // Let the model itself reject impossible numbers (busy < idle, TDP <= 0) now, not mid-run.
        do {
            _ = try model.estimate(seconds: 0, utilisation: 0)
        } catch {
            throw RunPlanError.invalid("--power-model \(argument): \(error)")
        }
        return model
    }
}
