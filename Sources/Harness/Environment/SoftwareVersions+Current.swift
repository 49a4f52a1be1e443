import Inference
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SoftwareVersions {
    /// Bumped with user-visible changes to the tool's output.
    public static let toolVersion = "0.1.0"

    /// The compiler that built this binary (known only at compile time), the running kernel and the
    /// instruction set the inference kernels use.
    public static func current() -> SoftwareVersions {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        return SoftwareVersions(tool: toolVersion, swiftCompiler: compilerVersion,
                                operatingSystem: field(name.sysname), kernelRelease: field(name.release),
                                machine: field(name.machine), kernels: InstructionSetChoice.activeDescription)
    }

    static var compilerVersion: String {
        #if compiler(>=6.4)
        return "Swift >= 6.4"
        #elseif compiler(>=6.3.1)
        return "Swift 6.3.1"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #elseif compiler(>=6.1)
        return "Swift 6.1"
        #elseif compiler(>=6.0)
        return "Swift 6.0"
        #else
        return "Swift < 6.0"
        #endif
    }
}
