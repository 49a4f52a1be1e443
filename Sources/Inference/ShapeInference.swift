import TFLiteModel

/// Output shapes of each operator from its input shapes, options and constant inputs, as TFLite's
/// Prepare functions compute them. Ops it does not know keep the shapes the file declares.
enum ShapeInference {
    struct Input {
        let shape: [Int]
        let type: TFLiteModel.TensorType
        /// The values of a constant (or already folded) integer tensor.
        let intValues: [Int]?
    }

    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    static func outputShapes(opName: String, options: TFLiteModel.BuiltinOptions, inputs: [Input?],
                             declared: [[Int]], customOptions: FlexBufferMap?) throws -> [[Int]] {
        func input(_ i: Int) throws -> Input {
            guard i < inputs.count, let value = inputs[i] else { throw Failure("input \(i) is missing") }
            return value
        }
        func constantInts(_ i: Int, _ what: String) throws -> [Int] {
            guard let values = try input(i).intValues else {
                throw Failure("\(what) (input \(i)) is not a constant; shapes that depend on runtime values "
                    + "are not supported")
            }
            return values
        }
        func rank4(_ shape: [Int], _ what: String) throws {
            guard shape.count == 4 else { throw Failure("\(what) has shape \(shape), expected rank 4 (NHWC)") }
        }
        func normalizedAxis(_ axis: Int, rank: Int) throws -> Int {
            let a = axis < 0 ? axis + rank : axis
            guard a >= 0 && a < rank else { throw Failure("axis \(axis) is out of range for rank \(rank)") }
            return a
        }

        switch opName {
        case "CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D":
            let x = try input(0).shape
            try rank4(x, "input")
            let filterHeight: Int, filterWidth: Int, strideH: Int, strideW: Int, dilationH: Int, dilationW: Int
            let same: Bool, channels: Int
            switch options {
            case let .conv2D(o):
                let w = try input(1).shape
                try rank4(w, "filter")
                guard w[3] == x[3] else {
                    throw Failure("filter \(w) has \(w[3]) input channels, the input \(x) has \(x[3])")
                }
                (filterHeight, filterWidth, channels) = (w[1], w[2], w[0])
                (strideH, strideW, dilationH, dilationW) = (o.strideHeight, o.strideWidth, o.dilationHeight,
                                                            o.dilationWidth)
                same = o.padding == .same
            case let .depthwiseConv2D(o):
                let w = try input(1).shape
                try rank4(w, "filter")
                guard x[3] > 0, w[3] % x[3] == 0 else {
                    throw Failure("filter \(w) channels are not a multiple of the input's \(x[3])")
                }
                (filterHeight, filterWidth, channels) = (w[1], w[2], w[3])
                (strideH, strideW, dilationH, dilationW) = (o.strideHeight, o.strideWidth, o.dilationHeight,
                                                            o.dilationWidth)
                same = o.padding == .same
            case let .pool2D(o):
                (filterHeight, filterWidth, channels) = (o.filterHeight, o.filterWidth, x[3])
                (strideH, strideW, dilationH, dilationW) = (o.strideHeight, o.strideWidth, 1, 1)
                same = o.padding == .same
            default:
                throw Failure("has no options table")
            }
            let h = WindowGeometry.outputSizeAndPadding(inputSize: x[1], filterSize: filterHeight, stride: strideH,
                                                        dilation: dilationH, same: same).outputSize
            let w = WindowGeometry.outputSizeAndPadding(inputSize: x[2], filterSize: filterWidth, stride: strideW,
                                                        dilation: dilationW, same: same).outputSize
            guard h > 0 && w > 0 else { throw Failure("window does not fit the input \(x)") }
            return [[x[0], h, w, channels]]

        case "ADD", "MUL", "SUB":
            let a = try input(0).shape, b = try input(1).shape
            guard let shapes = FloatKernels.BroadcastShapes(left: a, right: b) else {
                throw Failure("shapes \(a) and \(b) do not broadcast")
            }
            return [shapes.outputShape(rank: max(a.count, b.count))]

        case "LOGISTIC", "SOFTMAX", "DEQUANTIZE", "QUANTIZE", "RELU", "RELU6", "TANH":
            return [try input(0).shape]

        case "CONCATENATION":
            guard case let .concatenation(axisOption, _) = options else { throw Failure("has no options table") }
            let present = inputs.compactMap { $0 }
            guard let first = present.first else { throw Failure("has no inputs") }
            let axis = try normalizedAxis(axisOption, rank: first.shape.count)
            var shape = first.shape
            shape[axis] = 0
            for x in present {
                guard x.shape.count == first.shape.count,
                      (0..<shape.count).allSatisfy({ $0 == axis || x.shape[$0] == first.shape[$0] }) else {
                    throw Failure("input shapes \(present.map(\.shape)) differ outside axis \(axis)")
                }
                shape[axis] += x.shape[axis]
            }
            return [shape]

        case "PACK":
            guard case let .pack(_, axisOption) = options else { throw Failure("has no options table") }
            let present = inputs.compactMap { $0 }
            guard let first = present.first, present.allSatisfy({ $0.shape == first.shape }) else {
                throw Failure("inputs must all have the same shape")
            }
            let axis = try normalizedAxis(axisOption, rank: first.shape.count + 1)
            var shape = first.shape
            shape.insert(present.count, at: axis)
            return [shape]

        case "RESHAPE":
            let x = try input(0)
            var requested: [Int]
            if inputs.count > 1, let shapeInput = inputs[1] {
                guard let values = shapeInput.intValues else {
                    throw Failure("target shape (input 1) is not a constant; dynamic shapes are not supported")
                }
                requested = values
            } else if case let .reshape(newShape?) = options {
                requested = newShape
            } else {
                requested = declared.first ?? []
            }
            let count = x.shape.reduce(1, *)
            if let unknown = requested.firstIndex(of: -1) {
                let known = requested.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
                guard known > 0, count % known == 0 else {
                    throw Failure("cannot reshape \(x.shape) into \(requested)")
                }
                requested[unknown] = count / known
            }
            guard requested.allSatisfy({ $0 >= 0 }), requested.reduce(1, *) == count else {
                throw Failure("cannot reshape \(x.shape) (\(count) elements) into \(requested)")
            }
            return [requested]

        case "PAD", "PADV2":
            let x = try input(0).shape
            let paddings = try constantInts(1, "paddings")
            guard paddings.count == 2 * x.count, paddings.allSatisfy({ $0 >= 0 }) else {
                throw Failure("paddings \(paddings) do not fit rank \(x.count)")
            }
            return [x.enumerated().map { $1 + paddings[2 * $0] + paddings[2 * $0 + 1] }]

        case "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR":
            let x = try input(0).shape
            try rank4(x, "input")
            let size = try constantInts(1, "size")
            guard size.count == 2, size[0] > 0, size[1] > 0 else { throw Failure("size \(size) is invalid") }
            guard x[1] > 0, x[2] > 0 else { throw Failure("cannot resize the empty input \(x)") }
            return [[x[0], size[0], size[1], x[3]]]

        case "SHAPE":
            return [[try input(0).shape.count]]

        case "TILE":
            let x = try input(0).shape
            let multiples = try constantInts(1, "multiples")
            guard multiples.count == x.count, multiples.allSatisfy({ $0 >= 0 }) else {
                throw Failure("multiples \(multiples) do not fit shape \(x)")
            }
            return [zip(x, multiples).map(*)]

        case "STRIDED_SLICE":
            guard case let .stridedSlice(o) = options else { throw Failure("has no options table") }
            guard o.ellipsisMask == 0 && o.newAxisMask == 0 else {
                throw Failure("ellipsis_mask and new_axis_mask are not supported")
            }
            let x = try input(0).shape
            guard let resolved = LayoutKernels.resolveStridedSlice(
                inputShape: x, begin: try constantInts(1, "begin"), end: try constantInts(2, "end"),
                strides: try constantInts(3, "strides"), beginMask: o.beginMask, endMask: o.endMask,
                shrinkAxisMask: o.shrinkAxisMask, offset: o.offset)
            else { throw Failure("begin/end/strides do not fit shape \(x)") }
            return [resolved.outputShape]

        case "MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN":
            let x = try input(0).shape
            let axes = try constantInts(1, "axes").map { try normalizedAxis($0, rank: x.count) }
            var keepDims = false
            if case let .reducer(k) = options { keepDims = k }
            var shape: [Int] = []
            for (d, size) in x.enumerated() {
                if axes.contains(d) {
                    if keepDims { shape.append(1) }
                } else {
                    shape.append(size)
                }
            }
            return [shape]

        case "TFLite_Detection_PostProcess":
            let maxDetections = customOptions?["max_detections"]?.asInt ?? 0
            let perDetection = customOptions?["max_classes_per_detection"]?.asInt ?? 1
            let n = maxDetections * perDetection
            guard n > 0 else { throw Failure("custom options lack max_detections") }
            return [[1, n, 4], [1, n], [1, n], [1]]

        default:
            return declared
        }
    }
}
