import CPfm

/// libpfm4: event string ("cycles", "INST_RETIRED:ANY", "perf::PERF_COUNT_SW_TASK_CLOCK") ->
/// perf_event_open attributes, through `pfm_get_os_event_encoding(PFM_OS_PERF_EVENT_EXT)`.
///
/// libpfm4 picks the PMU tables from CPUID, so inside a VM a hardware event may encode fine and then
/// fail to open; encoding success says nothing about availability.
public enum PfmEncoder {
    public struct Encoding: Hashable, Sendable, Codable {
        public let attributes: PerfEventAttributes
        /// libpfm4's fully qualified name ("skx::INST_RETIRED:ANY:k=0:u=1...").
        public let fullyQualifiedName: String
    }

    public struct EncodeError: Error, Hashable, Sendable, CustomStringConvertible {
        public let event: String
        public let code: Int32
        public let message: String
        public var description: String { "libpfm4 cannot encode \"\(event)\": \(message)" }
    }

    /// `pfm_initialize` must run once per process; a Swift global/static initialiser is run exactly
    /// once even when tests call in from several threads.
    private static let initialisation: Int32 = pfm_initialize()

    /// Encodes `event`, counting user space only unless the string says otherwise (":k=1"), which
    /// is what perf_event_paranoid=2 allows to unprivileged users.
    public static func encode(_ event: String) throws -> Encoding {
        let initialised = initialisation
        guard initialised == PFM_SUCCESS else {
            throw EncodeError(event: event, code: initialised, message: "pfm_initialize failed: "
                              + String(cString: pfm_strerror(initialised)))
        }
        var attr = perf_event_attr()
        attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
        var fullName: UnsafeMutablePointer<CChar>?
        let code: Int32 = withUnsafeMutablePointer(to: &attr) { attrPointer in
            withUnsafeMutablePointer(to: &fullName) { namePointer in
                var argument = pfm_perf_encode_arg_t()
                argument.attr = attrPointer
                argument.fstr = namePointer
                argument.size = MemoryLayout<pfm_perf_encode_arg_t>.size
                return pfm_get_os_event_encoding(event, Int32(PFM_PLM3), PFM_OS_PERF_EVENT_EXT, &argument)
            }
        }
        defer { free(fullName) }
        guard code == PFM_SUCCESS else {
            throw EncodeError(event: event, code: code, message: String(cString: pfm_strerror(code)))
        }
        let attributes = PerfEventAttributes(
            type: attr.type, config: attr.config, config1: attr.config1, config2: attr.config2,
            excludeUser: attr.exclude_user != 0, excludeKernel: attr.exclude_kernel != 0,
            excludeHypervisor: attr.exclude_hv != 0)
        return Encoding(attributes: attributes, fullyQualifiedName: fullName.map { String(cString: $0) } ?? event)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
