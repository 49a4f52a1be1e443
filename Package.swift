// swift-tools-version:6.0
// ssd-energy: what does quantizing an SSD detector cost in accuracy, and what does it save in energy?
import PackageDescription

let package = Package(
    name: "ssd-energy",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ssd-energy", targets: ["ssd-energy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian (see README: libpfm4-dev, libsensors-dev, libturbojpeg0-dev).
        .systemLibrary(name: "CPfm", path: "Sources/CPfm"),
        .systemLibrary(name: "CSensors", path: "Sources/CSensors"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG"),
        // What Swift cannot call directly: the perf_event_open syscall and the ioctl request macros.
        .target(name: "CPerfEvent", path: "Sources/CPerfEvent"),

        // Where the data lives: --data, SSD_ENERGY_DATA, else ../shared.
        .target(name: "DataLocation"),

        // Model file -> graph -> kernels -> detections -> COCO evaluation.
        .target(name: "TFLiteModel"),
        // Optimized convolution kernels with run-time instruction set dispatch (AVX-512, AVX2+FMA, portable).
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(name: "Inference", dependencies: ["TFLiteModel", "CKernels"]),
        .target(name: "Imaging", dependencies: ["CTurboJPEG"]),
        .target(name: "Detector", dependencies: ["TFLiteModel", "Inference", "Imaging"]),
        .target(name: "COCO"),
        // Precision variants written as .tflite: dequantize, float16 weights, int8 post-training quantization.
        .target(name: "Precision", dependencies: ["TFLiteModel", "Inference", "Imaging", "Detector", "DataLocation"]),

        // Probe -> sample -> join -> report.
        .target(name: "Telemetry", dependencies: ["CPfm", "CSensors", "CPerfEvent"]),
        .target(name: "Harness", dependencies: ["Telemetry", "Detector", "Inference", "COCO", "DataLocation", "Precision"]),

        .executableTarget(
            name: "ssd-energy",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "DataLocation", "TFLiteModel", "Inference", "Imaging", "Detector", "COCO",
                "Telemetry", "Harness", "Precision",
            ]
        ),

        // Fuzzes the model reader (scripts/fuzz builds it with -sanitize=fuzzer -DFUZZING); a plain
        // build replays files through the same code.
        .executableTarget(name: "FuzzTFLite", dependencies: ["TFLiteModel", "Inference"]),

        .testTarget(name: "TFLiteModelTests", dependencies: ["TFLiteModel", "DataLocation"], exclude: ["Fixtures"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "TFLiteModel", "DataLocation", "CKernels"],
                    exclude: ["Fixtures", "Quantized/Fixtures"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "DataLocation"], exclude: ["Fixtures"]),
        .testTarget(name: "DetectorTests", dependencies: ["Detector", "DataLocation"], exclude: ["Fixtures"]),
        .testTarget(name: "COCOTests", dependencies: ["COCO", "DataLocation"], exclude: ["Fixtures"]),
        .testTarget(name: "PrecisionTests", dependencies: ["Precision", "TFLiteModel", "Inference", "Detector", "DataLocation"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Telemetry", "DataLocation"]),
    ],
    swiftLanguageModes: [.v5]
)
