import Foundation
import Inference
import TFLiteModel

/// One input: decode the bytes as a .tflite model and, if that succeeds, plan it for the interpreter
/// (shape inference, memory planning). Any outcome but a thrown error or success is a bug: a trap,
/// an out-of-bounds read (AddressSanitizer), a hang (libFuzzer's -timeout).
func readModel(_ bytes: [UInt8]) {
    guard let model = try? TFLiteModel(bytes: bytes, fileName: "fuzz-input.tflite") else { return }
    // A small arena: a fuzzed shape may legitimately ask for terabytes, which must be refused, not allocated.
    _ = try? Interpreter(model: model, options: Interpreter.Options(maxArenaBytes: 64 << 20))
}

#if FUZZING
/// libFuzzer's entry point for one input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    readModel(size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// libFuzzer's driver (in the -sanitize=fuzzer runtime). Called from our own main because SwiftPM
/// renames an executable's entry point, so libFuzzer's `main` cannot be the program's. Pointer
/// arguments and an Int32 result are passed the same way by the Swift and C conventions.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@main
enum FuzzModels {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
    }
}
#else
/// Without the fuzzer: replays the given files (a corpus or a crash reproducer) through the same
/// code, so a crash found by scripts/fuzz can be rerun under a debugger.
@main
enum ReplayModels {
    static func main() {
        let paths = CommandLine.arguments.dropFirst()
        if paths.isEmpty {
            FileHandle.standardError.write(Data("usage: FuzzTFLite FILE_OR_FOLDER...\n".utf8))
            exit(2)
        }
        var count = 0
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("\(path): no such file or folder\n".utf8))
                exit(2)
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                readModel([UInt8](data))
                count += 1
            }
        }
        print("replayed \(count) inputs without a crash")
    }
}
#endif
