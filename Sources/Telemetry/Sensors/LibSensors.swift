import CSensors
import Foundation

/// The live system's hardware-monitoring chips through libsensors (lm-sensors).
///
/// libsensors keeps global state and is not thread-safe, so every call goes through one lock and
/// `sensors_init` runs once per process. Zero chips is a valid answer (a VM has none).
public enum LibSensors {
    public struct InitError: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String {
            "libsensors sensors_init failed: \(String(cString: sensors_strerror(code)))"
        }
    }

    private static let lock = NSLock()
    private static let initialisation: Int32 = sensors_init(nil)

    /// Every detected chip with its features' current values (°C, V, A, W, J, RPM).
    public static func chips() throws -> [SensorChip] {
        lock.lock()
        defer { lock.unlock() }
        let status = initialisation
        guard status == 0 else { throw InitError(code: status) }
        var chips: [SensorChip] = []
        var chipIndex: Int32 = 0
        while let chip = sensors_get_detected_chips(nil, &chipIndex) {
            var nameBuffer = [CChar](repeating: 0, count: 256)
            let written = sensors_snprintf_chip_name(&nameBuffer, nameBuffer.count, chip)
            let name = written > 0 ? String(cString: nameBuffer) : String(cString: chip.pointee.prefix)
            let path = chip.pointee.path.map { String(cString: $0) }
            chips.append(SensorChip(name: name, path: path, features: features(of: chip)))
        }
        return chips
    }

    private static func features(of chip: UnsafePointer<sensors_chip_name>) -> [SensorFeature] {
        var result: [SensorFeature] = []
        var featureIndex: Int32 = 0
        while let feature = sensors_get_features(chip, &featureIndex) {
            guard let (quantity, inputTypes) = inputSubfeatureTypes(feature.pointee.type) else { continue }
            let featureName = String(cString: feature.pointee.name)
            var label = featureName
            if let raw = sensors_get_label(chip, feature) {
                label = String(cString: raw)
                free(raw)
            }
            var value: Double?
            for type in inputTypes {
                guard let subfeature = sensors_get_subfeature(chip, feature, type) else { continue }
                var reading = 0.0
                if sensors_get_value(chip, subfeature.pointee.number, &reading) == 0 { value = reading }
                break
            }
            result.append(SensorFeature(name: featureName, label: label, quantity: quantity, value: value, path: nil))
        }
        return result
    }

    private static func inputSubfeatureTypes(_ type: sensors_feature_type)
        -> (SensorQuantity, [sensors_subfeature_type])? {
        switch type {
        case SENSORS_FEATURE_TEMP: return (.temperature, [SENSORS_SUBFEATURE_TEMP_INPUT])
        case SENSORS_FEATURE_IN: return (.voltage, [SENSORS_SUBFEATURE_IN_INPUT])
        case SENSORS_FEATURE_CURR: return (.current, [SENSORS_SUBFEATURE_CURR_INPUT])
        case SENSORS_FEATURE_POWER:
            return (.power, [SENSORS_SUBFEATURE_POWER_INPUT, SENSORS_SUBFEATURE_POWER_AVERAGE])
        case SENSORS_FEATURE_ENERGY: return (.energy, [SENSORS_SUBFEATURE_ENERGY_INPUT])
        case SENSORS_FEATURE_FAN: return (.fan, [SENSORS_SUBFEATURE_FAN_INPUT])
        case SENSORS_FEATURE_HUMIDITY: return (.humidity, [SENSORS_SUBFEATURE_HUMIDITY_INPUT])
        default: return nil
        }
    }
}
