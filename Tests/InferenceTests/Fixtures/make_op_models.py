#!/usr/bin/env python3
"""Builds one tiny .tflite model per operator variant (with the flatbuffer object API LiteRT ships),
runs each in LiteRT with its reference kernels (OpResolverType.BUILTIN_REF) on a random input, and
writes ops/<case>.tflite, ops/<case>_input.npy and ops/<case>_output.npy: an oracle for the Swift
interpreter on the ops and options the shared float models do not exercise (dilation, depth
multiplier, pooling, broadcasting, pad, resize modes, strided-slice masks, tile, pack, mean, quantize).

Usage: python3 make_op_models.py
"""
import os
import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as s
from ai_edge_litert.interpreter import Interpreter, OpResolverType

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "ops")
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(20261129)
TYPES = {np.float32: s.TensorType.FLOAT32, np.int32: s.TensorType.INT32, np.int8: s.TensorType.INT8}


class Graph:
    def __init__(self):
        self.tensors, self.buffers, self.ops, self.codes = [], [s.BufferT()], [], []

    def tensor(self, shape, dtype=np.float32, data=None, quant=None):
        t = s.TensorT()
        t.shape, t.type, t.name = list(shape), TYPES[dtype], f"t{len(self.tensors)}"
        t.buffer = 0
        if data is not None:
            b = s.BufferT()
            b.data = np.asarray(data, dtype=dtype).tobytes()
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        if quant is not None:
            q = s.QuantizationParametersT()
            q.scale, q.zeroPoint = [quant[0]], [quant[1]]
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, code, inputs, outputs, options_type=0, options=None):
        if code not in self.codes:
            self.codes.append(code)
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = self.codes.index(code), inputs, outputs
        o.builtinOptionsType, o.builtinOptions = options_type, options
        self.ops.append(o)

    def save(self, name, inputs, outputs, x):
        g = s.SubGraphT()
        g.tensors, g.inputs, g.outputs, g.operators = self.tensors, inputs, outputs, self.ops
        m = s.ModelT()
        m.version, m.subgraphs, m.buffers = 3, [g], self.buffers
        m.operatorCodes = []
        for code in self.codes:
            c = s.OperatorCodeT()
            c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
            m.operatorCodes.append(c)
        b = flatbuffers.Builder(0)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        path = os.path.join(out_dir, name + ".tflite")
        with open(path, "wb") as f:
            f.write(b.Output())
        it = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        y = it.get_tensor(it.get_output_details()[0]["index"])
        np.save(os.path.join(out_dir, name + "_input.npy"), x)
        np.save(os.path.join(out_dir, name + "_output.npy"), y)
        print(name, x.shape, "->", y.shape, y.dtype)


def rand(*shape):
    return rng.uniform(-2, 2, size=shape).astype(np.float32)


def options(cls, **fields):
    o = cls()
    for k, v in fields.items():
        setattr(o, k, v)
    return o


A = s.ActivationFunctionType
P = s.Padding
B = s.BuiltinOperator
O = s.BuiltinOptions


def conv(name, in_shape, filt_shape, stride, dilation, padding, act):
    g = Graph()
    x = g.tensor(in_shape)
    w = g.tensor(filt_shape, data=rand(*filt_shape))
    bias = g.tensor([filt_shape[0]], data=rand(filt_shape[0]))
    y = g.tensor([0])  # shape filled by LiteRT; ours infers it
    g.op(B.CONV_2D, [x, w, bias], [y], O.Conv2DOptions, options(
        s.Conv2DOptionsT, padding=padding, strideW=stride, strideH=stride, fusedActivationFunction=act,
        dilationWFactor=dilation, dilationHFactor=dilation))
    g.save(name, [x], [y], rand(*in_shape))


def depthwise(name, in_shape, filt_shape, stride, padding, act, multiplier):
    g = Graph()
    x = g.tensor(in_shape)
    w = g.tensor(filt_shape, data=rand(*filt_shape))
    bias = g.tensor([filt_shape[3]], data=rand(filt_shape[3]))
    y = g.tensor([0])
    g.op(B.DEPTHWISE_CONV_2D, [x, w, bias], [y], O.DepthwiseConv2DOptions, options(
        s.DepthwiseConv2DOptionsT, padding=padding, strideW=stride, strideH=stride, depthMultiplier=multiplier,
        fusedActivationFunction=act, dilationWFactor=1, dilationHFactor=1))
    g.save(name, [x], [y], rand(*in_shape))


def pool(name, code, in_shape, size, stride, padding, act):
    g = Graph()
    x, y = g.tensor(in_shape), g.tensor([0])
    g.op(code, [x], [y], O.Pool2DOptions, options(
        s.Pool2DOptionsT, padding=padding, strideW=stride, strideH=stride, filterWidth=size, filterHeight=size,
        fusedActivationFunction=act))
    g.save(name, [x], [y], rand(*in_shape))


def binary(name, code, opts_type, opts_cls, in_shape, const, act):
    g = Graph()
    x = g.tensor(in_shape)
    c = g.tensor(const.shape, data=const)
    y = g.tensor([0])
    g.op(code, [x, c], [y], opts_type, options(opts_cls, fusedActivationFunction=act))
    g.save(name, [x], [y], rand(*in_shape))


def unary(name, code, in_shape, opts_type=0, opts=None):
    g = Graph()
    x, y = g.tensor(in_shape), g.tensor([0])
    g.op(code, [x], [y], opts_type, opts)
    g.save(name, [x], [y], rand(*in_shape))


def with_int_input(name, code, in_shape, ints, opts_type=0, opts=None, extra=()):
    """An op whose second (and further) inputs are constant INT32 tensors."""
    g = Graph()
    x = g.tensor(in_shape)
    consts = [g.tensor(np.asarray(v).shape, np.int32, data=v) for v in [ints, *extra]]
    y = g.tensor([0])
    g.op(code, [x, *consts], [y], opts_type, opts)
    g.save(name, [x], [y], rand(*in_shape))


conv("conv_dilated_same_relu", [1, 7, 7, 3], [4, 3, 3, 3], 1, 2, P.SAME, A.RELU)
conv("conv_stride2_valid_relu6", [1, 8, 9, 3], [5, 3, 3, 3], 2, 1, P.VALID, A.RELU6)
conv("conv_stride2_same_even", [1, 8, 8, 2], [3, 3, 3, 2], 2, 1, P.SAME, A.NONE)
depthwise("depthwise_multiplier2_stride2_same", [1, 6, 6, 3], [1, 3, 3, 6], 2, P.SAME, A.RELU6, 2)
depthwise("depthwise_valid_relu_n1_to_1", [1, 5, 4, 4], [1, 3, 3, 4], 1, P.VALID, A.RELU_N1_TO_1, 1)
pool("average_pool_same", B.AVERAGE_POOL_2D, [1, 5, 5, 2], 3, 2, P.SAME, A.NONE)
pool("max_pool_valid_relu", B.MAX_POOL_2D, [1, 6, 7, 2], 2, 2, P.VALID, A.RELU)
binary("add_broadcast_relu6", B.ADD, O.AddOptions, s.AddOptionsT, [1, 4, 4, 3], rand(3), A.RELU6)
binary("mul_broadcast", B.MUL, O.MulOptions, s.MulOptionsT, [2, 3, 1], rand(1, 4), A.NONE)
unary("logistic", B.LOGISTIC, [2, 40], )
unary("softmax_beta_half", B.SOFTMAX, [3, 7], O.SoftmaxOptions, options(s.SoftmaxOptionsT, beta=0.5))
with_int_input("pad", B.PAD, [1, 3, 3, 2], [[0, 0], [1, 2], [2, 1], [0, 0]])
for label, align, half in [("default", False, False), ("align_corners", True, False), ("half_pixel", False, True)]:
    with_int_input(f"resize_bilinear_{label}", B.RESIZE_BILINEAR, [1, 3, 4, 2], [7, 5], O.ResizeBilinearOptions,
                   options(s.ResizeBilinearOptionsT, alignCorners=align, halfPixelCenters=half))
with_int_input("strided_slice_negative_stride", B.STRIDED_SLICE, [4, 6], [1, -1], O.StridedSliceOptions,
               options(s.StridedSliceOptionsT, beginMask=0, endMask=0, shrinkAxisMask=0),
               extra=([4, 0], [2, -2]))
with_int_input("strided_slice_masks_shrink", B.STRIDED_SLICE, [2, 5, 3], [1, 3, 1], O.StridedSliceOptions,
               options(s.StridedSliceOptionsT, beginMask=2, endMask=4, shrinkAxisMask=1),
               extra=([2, 4, 2], [1, 1, 1]))
with_int_input("tile", B.TILE, [2, 3], [2, 2])
with_int_input("mean_spatial_keep_dims", B.MEAN, [1, 4, 4, 3], [1, 2], O.ReducerOptions,
               options(s.ReducerOptionsT, keepDims=True))
with_int_input("mean_axis_negative", B.MEAN, [2, 3, 4], [-1], O.ReducerOptions, options(s.ReducerOptionsT, keepDims=False))
with_int_input("reshape_shape_tensor", B.RESHAPE, [2, 3, 4], [4, -1], O.ReshapeOptions, options(s.ReshapeOptionsT))

g = Graph()
x = g.tensor([2, 3])
c = g.tensor([2, 3], data=rand(2, 3))
y = g.tensor([0])
g.op(B.PACK, [x, c], [y], O.PackOptions, options(s.PackOptionsT, valuesCount=2, axis=1))
g.save("pack_axis1", [x], [y], rand(2, 3))

g = Graph()
x = g.tensor([2, 2, 3])
c = g.tensor([2, 2, 2], data=rand(2, 2, 2))
y = g.tensor([0])
g.op(B.CONCATENATION, [x, c], [y], O.ConcatenationOptions, options(s.ConcatenationOptionsT, axis=-1))
g.save("concatenation_last_axis", [x], [y], rand(2, 2, 3))

g = Graph()
x = g.tensor([3, 5])
q = g.tensor([3, 5], np.int8, quant=(0.05, 3))
y = g.tensor([0])
g.op(B.QUANTIZE, [x], [q])
g.op(B.DEQUANTIZE, [q], [y])
g.save("quantize_dequantize_int8", [x], [y], rand(3, 5) * 4)


def external_buffers(name, source_case):
    """Rewrites a case with every constant stored after the flatbuffer (Buffer.offset/size, as
    converters do for models over 2 GB) and checks LiteRT still gives the same output."""
    with open(os.path.join(out_dir, source_case + ".tflite"), "rb") as f:
        model = s.ModelT.InitFromPackedBuf(f.read(), 0)
    payloads = []
    for b in model.buffers[1:]:
        payloads.append(bytes(np.asarray(b.data, dtype=np.uint8)))
        b.data, b.offset, b.size = None, 1, len(payloads[-1])  # placeholder offset, same encoded size

    def pack():
        builder = flatbuffers.Builder(0)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())

    position = (len(pack()) + 15) // 16 * 16
    for b, payload in zip(model.buffers[1:], payloads):
        b.offset = position
        position = (position + len(payload) + 15) // 16 * 16
    head = pack()
    blob = bytearray(head)
    for b, payload in zip(model.buffers[1:], payloads):
        blob.extend(b"\0" * (b.offset - len(blob)))
        blob.extend(payload)
    path = os.path.join(out_dir, name + ".tflite")
    with open(path, "wb") as f:
        f.write(bytes(blob))
    x = np.load(os.path.join(out_dir, source_case + "_input.npy"))
    it = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    y = it.get_tensor(it.get_output_details()[0]["index"])
    assert np.array_equal(y, np.load(os.path.join(out_dir, source_case + "_output.npy")))
    np.save(os.path.join(out_dir, name + "_input.npy"), x)
    np.save(os.path.join(out_dir, name + "_output.npy"), y)
    print(name, "flatbuffer", len(head), "bytes + external data to", len(blob))


external_buffers("conv_external_buffers", "conv_dilated_same_relu")
