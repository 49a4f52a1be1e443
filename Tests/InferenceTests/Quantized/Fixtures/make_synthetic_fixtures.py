#!/usr/bin/env python3
"""Writes fixtures for operator variants the shared models do not contain (depth multiplier > 1,
dilation, broadcasting, align_corners, uint8 softmax/resize, pooling, MUL, ties in QUANTIZE, ...).

Each case is a one-operator .tflite model built here with the flatbuffer schema that ships with
LiteRT, filled with seeded random data, and run by LiteRT (PyPI ai-edge-litert) with its REFERENCE
kernels (OpResolverType.BUILTIN_REF). The fixture format is the one make_op_fixtures.py writes.

Run from the repository root:  python3 Tests/InferenceTests/Quantized/Fixtures/make_synthetic_fixtures.py
"""
import json
import os

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from make_op_fixtures import options_dict, tensor_record

HERE = os.path.dirname(os.path.abspath(__file__))
RNG = np.random.default_rng(20261129)
TYPES = {np.int8: schema.TensorType.INT8, np.uint8: schema.TensorType.UINT8,
         np.int32: schema.TensorType.INT32, np.float32: schema.TensorType.FLOAT32}
OP = schema.BuiltinOperator
OPTIONS = schema.BuiltinOptions
PAD_SAME, PAD_VALID = schema.Padding.SAME, schema.Padding.VALID
NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3


class T:
    """A tensor of the one-operator model: constant when `data` is given, else a graph input
    filled with random values of its type."""

    def __init__(self, dtype, shape, scale=None, zero_point=0, data=None, axis=0):
        self.dtype, self.shape, self.data, self.axis = dtype, list(shape), data, axis
        self.scale = None if scale is None else np.atleast_1d(np.asarray(scale, np.float32))
        self.zero_point = np.broadcast_to(np.asarray(zero_point, np.int64),
                                          (0 if scale is None else len(self.scale),)).copy()

    def random(self):
        if self.dtype == np.float32:
            return RNG.normal(0, 3, self.shape).astype(np.float32)
        info = np.iinfo(self.dtype)
        return RNG.integers(info.min, info.max + 1, self.shape).astype(self.dtype)


def q8(dtype, shape, scale, zero_point, const=False):
    tensor = T(dtype, shape, scale, zero_point)
    if const:
        tensor.data = tensor.random()
    return tensor


def bias(input_scale, filter_scales, count, magnitude=2000):
    scales = np.float32(input_scale) * np.asarray(filter_scales, np.float32)
    return T(np.int32, [count], np.broadcast_to(scales, (count,)), 0,
             data=RNG.integers(-magnitude, magnitude, count).astype(np.int32))


def build_model(op, version, options_type, options, inputs, output):
    model = schema.ModelT()
    model.version = 3
    code = schema.OperatorCodeT()
    code.builtinCode = op
    code.deprecatedBuiltinCode = min(op, 127)
    code.version = version
    model.operatorCodes = [code]
    model.buffers = [schema.BufferT()]
    tensors = []
    for index, spec in enumerate(inputs + [output]):
        tensor = schema.TensorT()
        tensor.shape = spec.shape
        tensor.type = TYPES[spec.dtype]
        tensor.name = f"t{index}"
        if spec.scale is not None:
            quant = schema.QuantizationParametersT()
            quant.scale = spec.scale.tolist()
            quant.zeroPoint = spec.zero_point.tolist()
            quant.quantizedDimension = spec.axis
            tensor.quantization = quant
        buffer = schema.BufferT()
        if spec.data is not None:
            buffer.data = np.frombuffer(np.ascontiguousarray(spec.data).tobytes(), np.uint8).tolist()
        model.buffers.append(buffer)
        tensor.buffer = len(model.buffers) - 1
        tensors.append(tensor)
    graph = schema.SubGraphT()
    graph.tensors = tensors
    graph.inputs = [i for i, spec in enumerate(inputs) if spec.data is None]
    graph.outputs = [len(inputs)]
    operator = schema.OperatorT()
    operator.opcodeIndex = 0
    operator.inputs = list(range(len(inputs)))
    operator.outputs = [len(inputs)]
    if options is not None:
        operator.builtinOptionsType = options_type
        operator.builtinOptions = options
    graph.operators = [operator]
    model.subgraphs = [graph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), operator


def make_options(cls, **fields):
    options = cls()
    for key, value in fields.items():
        setattr(options, key, value)
    return options


def conv(padding, stride, dilation, activation):
    return make_options(schema.Conv2DOptionsT, padding=padding, strideH=stride, strideW=stride,
                        dilationHFactor=dilation, dilationWFactor=dilation, fusedActivationFunction=activation)


def depthwise(padding, stride, dilation, multiplier, activation):
    return make_options(schema.DepthwiseConv2DOptionsT, padding=padding, strideH=stride, strideW=stride,
                        dilationHFactor=dilation, dilationWFactor=dilation, depthMultiplier=multiplier,
                        fusedActivationFunction=activation)


def pool(padding, stride, size, activation):
    return make_options(schema.Pool2DOptionsT, padding=padding, strideH=stride, strideW=stride,
                        filterHeight=size, filterWidth=size, fusedActivationFunction=activation)


def const_i32(values):
    values = np.asarray(values, np.int32)
    return T(np.int32, values.shape, data=values)


def cases():
    i8, u8, f32 = np.int8, np.uint8, np.float32
    per_channel6 = RNG.uniform(0.003, 0.02, 6).astype(np.float32)
    yield ("dm2_dilated_int8", OP.DEPTHWISE_CONV_2D, 3, OPTIONS.DepthwiseConv2DOptions,
           depthwise(PAD_SAME, 1, 2, 2, RELU),
           [q8(i8, [1, 7, 6, 3], 0.05, 3), T(i8, [1, 3, 3, 6], per_channel6, 0, axis=3),
            bias(0.05, per_channel6, 6)], q8(i8, [1, 7, 6, 6], 0.08, -5))
    yield ("dm3_stride2_valid_uint8", OP.DEPTHWISE_CONV_2D, 1, OPTIONS.DepthwiseConv2DOptions,
           depthwise(PAD_VALID, 2, 1, 3, RELU6),
           [q8(u8, [1, 8, 8, 2], 0.02, 120), q8(u8, [1, 3, 3, 6], 0.01, 130, const=True), bias(0.02, 0.01, 6)],
           q8(u8, [1, 3, 3, 6], 0.05, 100))
    per_channel5 = RNG.uniform(0.002, 0.01, 5).astype(np.float32)
    yield ("dilated_int8", OP.CONV_2D, 3, OPTIONS.Conv2DOptions, conv(PAD_SAME, 1, 2, RELU_N1_TO_1),
           [q8(i8, [1, 9, 9, 4], 0.04, -7), T(i8, [5, 3, 3, 4], per_channel5, 0, axis=0),
            bias(0.04, per_channel5, 5)], q8(i8, [1, 9, 9, 5], 0.01, 2))
    yield ("stride2_odd_uint8", OP.CONV_2D, 1, OPTIONS.Conv2DOptions, conv(PAD_SAME, 2, 1, RELU),
           [q8(u8, [1, 7, 8, 3], 0.03, 110), q8(u8, [4, 3, 3, 3], 0.006, 120, const=True), bias(0.03, 0.006, 4)],
           q8(u8, [1, 4, 4, 4], 0.1, 40))
    yield ("broadcast_relu6_int8", OP.ADD, 2, OPTIONS.AddOptions,
           make_options(schema.AddOptionsT, fusedActivationFunction=RELU6),
           [q8(i8, [1, 4, 4, 3], 0.05, -4), q8(i8, [1, 1, 1, 3], 0.11, 9)], q8(i8, [1, 4, 4, 3], 0.04, -100))
    yield ("uint8", OP.ADD, 1, OPTIONS.AddOptions, make_options(schema.AddOptionsT, fusedActivationFunction=NONE),
           [q8(u8, [1, 3, 5, 2], 0.2, 130), q8(u8, [1, 3, 5, 2], 0.07, 12)], q8(u8, [1, 3, 5, 2], 0.25, 128))
    yield ("int8", OP.MUL, 2, OPTIONS.MulOptions, make_options(schema.MulOptionsT, fusedActivationFunction=NONE),
           [q8(i8, [1, 4, 4, 3], 0.05, -4), q8(i8, [1, 4, 4, 3], 0.02, 7)], q8(i8, [1, 4, 4, 3], 0.09, 1))
    yield ("broadcast_uint8", OP.MUL, 1, OPTIONS.MulOptions, make_options(schema.MulOptionsT, fusedActivationFunction=RELU),
           [q8(u8, [1, 3, 3, 2], 0.05, 128), q8(u8, [1, 1, 1, 2], 0.02, 100)], q8(u8, [1, 3, 3, 2], 0.03, 120))
    yield ("align_corners_int8", OP.RESIZE_BILINEAR, 3, OPTIONS.ResizeBilinearOptions,
           make_options(schema.ResizeBilinearOptionsT, alignCorners=True, halfPixelCenters=False),
           [q8(i8, [1, 3, 4, 2], 0.1, 0), const_i32([7, 5])], q8(i8, [1, 7, 5, 2], 0.1, 0))
    yield ("plain_int8", OP.RESIZE_BILINEAR, 3, OPTIONS.ResizeBilinearOptions,
           make_options(schema.ResizeBilinearOptionsT, alignCorners=False, halfPixelCenters=False),
           [q8(i8, [1, 5, 3, 2], 0.1, 0), const_i32([3, 7])], q8(i8, [1, 3, 7, 2], 0.1, 0))
    yield ("half_pixel_uint8", OP.RESIZE_BILINEAR, 3, OPTIONS.ResizeBilinearOptions,
           make_options(schema.ResizeBilinearOptionsT, alignCorners=False, halfPixelCenters=True),
           [q8(u8, [1, 4, 4, 3], 0.1, 128), const_i32([7, 9])], q8(u8, [1, 7, 9, 3], 0.1, 128))
    yield ("beta_half_uint8", OP.SOFTMAX, 1, OPTIONS.SoftmaxOptions, make_options(schema.SoftmaxOptionsT, beta=0.5),
           [q8(u8, [4, 10], 0.3, 128)], q8(u8, [4, 10], 1 / 256, 0))
    yield ("beta_two_int8", OP.SOFTMAX, 2, OPTIONS.SoftmaxOptions, make_options(schema.SoftmaxOptionsT, beta=2.0),
           [q8(i8, [3, 20], 0.05, -3)], q8(i8, [3, 20], 1 / 256, -128))
    all_int8 = T(i8, [256], [0.07], -10, data=None)
    yield ("all_values_int8", OP.LOGISTIC, 2, None, None, [all_int8], q8(i8, [256], 1 / 256, -128))
    ties = T(f32, [64])
    yield ("ties_int8", OP.QUANTIZE, 2, None, None, [ties], q8(i8, [64], 0.25, 3))
    yield ("float_uint8", OP.QUANTIZE, 1, None, None, [T(f32, [64])], q8(u8, [64], 0.04, 128))
    yield ("int8_to_uint8", OP.QUANTIZE, 2, None, None, [q8(i8, [256], 0.03, -5)], q8(u8, [256], 0.05, 120))
    yield ("uint8", OP.DEQUANTIZE, 1, None, None, [q8(u8, [256], 0.03, 100)], T(f32, [256]))
    yield ("last_axis_uint8", OP.CONCATENATION, 1, OPTIONS.ConcatenationOptions,
           make_options(schema.ConcatenationOptionsT, axis=-1, fusedActivationFunction=NONE),
           [q8(u8, [1, 2, 3, 2], 0.1, 128), q8(u8, [1, 2, 3, 3], 0.03, 7)], q8(u8, [1, 2, 3, 5], 0.05, 110))
    yield ("uint8", OP.PAD, 1, None, None,
           [q8(u8, [1, 3, 3, 2], 0.1, 77), const_i32([[0, 0], [2, 1], [0, 3], [0, 0]])], q8(u8, [1, 6, 6, 2], 0.1, 77))
    yield ("same_relu6_int8", OP.AVERAGE_POOL_2D, 2, OPTIONS.Pool2DOptions, pool(PAD_SAME, 2, 3, RELU6),
           [q8(i8, [1, 7, 7, 3], 0.05, -20)], q8(i8, [1, 4, 4, 3], 0.05, -20))
    yield ("valid_uint8", OP.AVERAGE_POOL_2D, 1, OPTIONS.Pool2DOptions, pool(PAD_VALID, 2, 2, NONE),
           [q8(u8, [1, 6, 5, 2], 0.1, 128)], q8(u8, [1, 3, 2, 2], 0.1, 128))
    yield ("same_int8", OP.MAX_POOL_2D, 2, OPTIONS.Pool2DOptions, pool(PAD_SAME, 2, 3, NONE),
           [q8(i8, [1, 7, 7, 3], 0.05, -20)], q8(i8, [1, 4, 4, 3], 0.05, -20))
    yield ("valid_relu_uint8", OP.MAX_POOL_2D, 1, OPTIONS.Pool2DOptions, pool(PAD_VALID, 1, 2, RELU),
           [q8(u8, [1, 4, 4, 2], 0.1, 128)], q8(u8, [1, 3, 3, 2], 0.1, 128))
    # x * 0.5 / 1.0 is a tie for every odd x: rounds half away from zero, not to even.
    yield ("ties_uint8", OP.CONCATENATION, 1, OPTIONS.ConcatenationOptions,
           make_options(schema.ConcatenationOptionsT, axis=0, fusedActivationFunction=NONE),
           [q8(u8, [256], 0.5, 0), q8(u8, [16], 1.0, 0)], q8(u8, [272], 1.0, 0))
    keep = make_options(schema.ReducerOptionsT, keepDims=True)
    drop = make_options(schema.ReducerOptionsT, keepDims=False)
    yield ("spatial_same_int8", OP.MEAN, 2, OPTIONS.ReducerOptions, keep,
           [q8(i8, [1, 4, 5, 3], 0.05, -7), const_i32([1, 2])], q8(i8, [1, 1, 1, 3], 0.05, -7))
    yield ("spatial_rescaled_int8", OP.MEAN, 2, OPTIONS.ReducerOptions, keep,
           [q8(i8, [1, 6, 5, 3], 0.05, -7), const_i32([1, 2])], q8(i8, [1, 1, 1, 3], 0.02, 3))
    yield ("last_axis_rescaled_uint8", OP.MEAN, 1, OPTIONS.ReducerOptions, drop,
           [q8(u8, [2, 3, 7], 0.1, 128), const_i32([2])], q8(u8, [2, 3], 0.03, 100))


def special_input(name, spec):
    """Inputs that need particular values rather than uniform random ones."""
    if name == "all_values_int8":
        return np.arange(-128, 128, dtype=np.int8)
    if name == "ties_int8":  # multiples of 1/8 hit every x.5 tie of x / 0.25, plus values that clamp
        return np.concatenate([np.arange(-30, 30) * 0.125, [40.0, -40.0, 0.0625, -0.0625]]).astype(np.float32)
    if name in ("int8_to_uint8",):
        return np.arange(-128, 128, dtype=np.int8)
    if name == "ties_uint8" and spec.shape == [256]:
        return np.arange(256, dtype=np.uint8)
    if name == "uint8" and spec.dtype == np.uint8 and spec.shape == [256]:
        return np.arange(256, dtype=np.uint8)
    return spec.random()


def main():
    total = 0
    for name, op, version, options_type, options, inputs, output in cases():
        for spec in inputs:
            if spec.data is None and spec.dtype == np.int8 and spec.scale is not None and len(spec.scale) > 1:
                spec.data = spec.random()  # per-channel filters are constants
        content, operator = build_model(op, version, options_type, options, inputs, output)
        interpreter = Interpreter(model_content=content,
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                                  experimental_preserve_all_tensors=True)
        interpreter.allocate_tensors()
        for index, spec in enumerate(inputs):
            if spec.data is None:
                interpreter.set_tensor(index, special_input(name, spec))
        interpreter.invoke()
        details = {t["index"]: t for t in interpreter.get_tensor_details()}
        op_name = next(k for k, v in vars(OP).items() if v == op)
        fixture = {
            "source": f"synthetic one-operator model '{name}' (seeded random data), LiteRT BUILTIN_REF",
            "crop": "none",
            "op": op_name,
            "options": options_dict(operator),
            "inputs": [tensor_record(details[i], interpreter.get_tensor(i)) for i in range(len(inputs))],
            "outputs": [tensor_record(details[len(inputs)], interpreter.get_tensor(len(inputs)))],
        }
        file_name = f"synthetic_{name}_op0_{op_name.lower()}.json"
        text = json.dumps(fixture, indent=1)
        with open(os.path.join(HERE, file_name), "w") as f:
            f.write(text + "\n")
        total += len(text)
        print(f"{file_name}: {len(text)} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
