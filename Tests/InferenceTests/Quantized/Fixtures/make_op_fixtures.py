#!/usr/bin/env python3
"""Writes the per-operator fixtures for the quantized kernel tests.

The oracle is LiteRT (PyPI ai-edge-litert) running the shared models with its REFERENCE kernels
(OpResolverType.BUILTIN_REF) and every intermediate tensor preserved. For each chosen operator we
store its options, its inputs (activations and constant weights) with their quantization, and the
output LiteRT produced, as one JSON file per operator (tensor bytes base64, little-endian).

To keep the fixtures small some operators are cropped, always along a dimension the operator treats
independently, so the stored output is still exactly LiteRT's output for the stored inputs:
  - conv: keep the first output channels (filter rows, bias, per-channel scales, output channels);
    a large first layer is also cropped to its top-left input corner and marked VALID, which is exact
    because TFLite's SAME padding puts no padding before row/column 0 for those shapes (checked here);
  - depthwise conv, pad, resize: keep the first channels;
  - elementwise ops: keep the first elements (binary) or the distinct input values (unary);
  - softmax: keep a subset of rows; concatenation: keep the first entries of a non-concat axis.

Run from the repository root:  python3 Tests/InferenceTests/Quantized/Fixtures/make_op_fixtures.py
"""
import base64
import json
import math
import os
import sys

import flatbuffers
import numpy as np
from PIL import Image
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SSD_ENERGY_DATA", os.path.join(HERE, "../../../../../shared"))
IMAGE = "data/coco-val2017-subset/images/000000000139.jpg"

V1 = "models/ssd_mobilenet_v1_coco_quant/detect.tflite"
FPN = "models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite"
PERSON = "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite"
PERSON16 = "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp16.tflite"

# (model, operator index, crop) — crop is interpreted per operator type in crop_fixture().
SELECTION = [
    (V1, 0, {"corner": 31, "channels": 8}),   # uint8 3x3 stride 2 conv, first layer
    (V1, 55, {}),                              # uint8 1x1 conv, 1x1 spatial
    (V1, 47, {"channels": 12}),                # uint8 1x1 conv, 3x3 spatial
    (V1, 31, {"channels": 16}),                # uint8 1x1 conv, RELU6
    (V1, 34, {"channels": 16}),                # uint8 3x3 stride 2 SAME conv, RELU6, 2x2 -> 1x1
    (V1, 30, {"channels": 12}),                # uint8 3x3 stride 2 SAME conv, RELU6, 5x5 -> 3x3
    (V1, 20, {"sensitive_pixels": True, "image": "000000010764.jpg"}),  # uint8 1x1 conv: legacy multiplier
    (V1, 23, {"channels": 16}),                # uint8 depthwise stride 2 SAME
    (V1, 25, {"channels": 16}),                # uint8 depthwise stride 1 SAME
    (V1, 57, {}),                              # uint8 concatenation, inputs with other scales
    (V1, 61, {"keep_last": 6}),                # uint8 concatenation of class logits
    (V1, 62, {"unique": True}),                # uint8 logistic
    (FPN, 0, {"unique": True}),                # quantize uint8 -> int8
    (FPN, 1, {"corner": 31, "channels": 8}),   # int8 per-channel 3x3 stride 2 conv, RELU6
    (FPN, 111, {}),                            # int8 per-channel 1x1 conv, 4x4 spatial
    (FPN, 123, {"channels": 16}),              # int8 per-channel 1x1 conv, RELU6
    (FPN, 122, {"channels": 16}),              # int8 depthwise stride 2 SAME, 4x4 -> 2x2
    (FPN, 96, {"channels": 16}),               # int8 depthwise stride 1 SAME
    (FPN, 14, {"channels": 6}),                # int8 depthwise stride 2 VALID (after PAD), RELU6
    (FPN, 52, {"channels": 4}),                # pad int8
    (FPN, 58, {"elements": 2048}),             # add int8
    (FPN, 183, {"elements": 2048}),            # add int8, very different input scales
    (FPN, 150, {"channels": 12}),              # resize bilinear int8, half pixel centers, 8 -> 16
    (FPN, 181, {"channels": 4}),               # resize bilinear int8, 16 -> 32
    (FPN, 201, {"rows": 96}),                  # softmax int8
    (FPN, 209, {"keep_last": 2}),              # concatenation int8
    (FPN, 202, {"unique": True}),              # dequantize int8 (softmax scale)
    (FPN, 210, {"unique": True}),              # dequantize int8
    (PERSON, 0, {"unique": True}),             # quantize uint8 -> int8
    (PERSON, 1, {"corner": 31, "channels": 8}),  # int8 per-channel 3x3 stride 2 conv, RELU6
    (PERSON, 108, {}),                         # int8 per-channel 1x1 conv
    (PERSON, 104, {"channels": 24}),           # int8 per-channel 1x1 conv, RELU6
    (PERSON, 103, {"channels": 16}),           # int8 depthwise stride 2 SAME, RELU6, 2x2 -> 1x1
    (PERSON, 94, {"channels": 16}),            # int8 depthwise stride 2 SAME, RELU6, 3x3 -> 2x2
    (PERSON, 28, {"elements": 2048}),          # add int8
    (PERSON, 113, {}),                         # concatenation int8
    (PERSON, 114, {"unique": True}),           # dequantize int8
    (PERSON16, None, {"dequantize_fp16": 512}),  # dequantize float16 weights
]


def load_image(shape, dtype, image_path=IMAGE):
    """COCO image resized (PIL bilinear) to the model input, raw pixel values."""
    height, width = int(shape[1]), int(shape[2])
    image = Image.open(os.path.join(SHARED, image_path)).convert("RGB").resize((width, height), Image.BILINEAR)
    return np.asarray(image, dtype=dtype)[None, ...]


def reference_model_bytes(model_path):
    """The model file, with TILE's opcode version lowered from 3 to 2: LiteRT 2.3's reference op
    resolver registers TILE only up to version 2, and its tile kernel copies elements the same way
    for every version (the version only records which types the model may use)."""
    model = schema.ModelT.InitFromPackedBuf(open(model_path, "rb").read(), 0)
    for code in model.operatorCodes:
        if code.builtinCode == schema.BuiltinOperator.TILE and code.version > 2:
            code.version = 2
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def run_reference(model_path, image_path=IMAGE):
    interpreter = Interpreter(model_content=reference_model_bytes(model_path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                              experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], load_image(detail["shape"], detail["dtype"], image_path))
    interpreter.invoke()
    return interpreter


PADDING = {schema.Padding.SAME: "SAME", schema.Padding.VALID: "VALID"}
ACTIVATION = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}


def options_dict(operator):
    options = operator.builtinOptions
    if options is None:
        return {}
    result = {}
    for key, value in vars(options).items():
        if key == "padding":
            value = PADDING[value]
        elif key == "fusedActivationFunction":
            value = ACTIVATION[value]
        elif isinstance(value, (np.integer, np.bool_)):
            value = value.item()
        elif isinstance(value, (np.floating, float)):
            value = float(value)
        elif isinstance(value, (list, np.ndarray)):
            value = [int(v) for v in value]
        result[key] = value
    return result


def tensor_record(detail, data):
    quant = detail["quantization_parameters"]
    data = np.ascontiguousarray(data)
    return {
        "name": detail["name"],
        "type": np.dtype(data.dtype).name,
        "shape": [int(d) for d in data.shape],
        "scales": [float(s) for s in quant["scales"]],
        "zeroPoints": [int(z) for z in quant["zero_points"]],
        "quantizedDimension": int(quant["quantized_dimension"]),
        "data": base64.b64encode(data.astype(data.dtype.newbyteorder("<")).tobytes()).decode("ascii"),
    }


def crop_quant(record, keep):
    """Per-channel scales follow a channel crop."""
    if len(record["scales"]) > 1:
        record["scales"] = record["scales"][:keep]
        record["zeroPoints"] = record["zeroPoints"][:keep]
    return record


def same_padding_before(size, kernel, stride):
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2


def tflite_quantize_multiplier(real):
    """QuantizeMultiplier (quantization_util.cc), to pick fixture elements; the expected values
    themselves always come from LiteRT."""
    fraction, exponent = math.frexp(real)
    fixed = int(math.floor(abs(fraction) * 2 ** 31 + 0.5))
    if fixed == 2 ** 31:
        fixed //= 2
        exponent += 1
    return fixed, exponent


def tflite_rescale(acc, multiplier, shift):
    """MultiplyByQuantizedMultiplier on int64 arrays (C-style truncating division)."""
    acc = acc * (1 << max(shift, 0))
    product = acc * multiplier
    nudged = product + np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    high = np.sign(nudged) * (np.abs(nudged) // (1 << 31))
    right = max(-shift, 0)
    mask = (1 << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (high < 0)
    return (high >> right) + (remainder > threshold)


def sensitive_pixels_crop(options, ins, outs):
    """For a uint8 1x1 stride-1 conv (each output pixel reads only its own input pixel), keep the
    pixels and output channels whose value depends on whether the per-tensor multiplier uses a float
    or a double input*filter product, plus a few others; pixels become one row."""
    (xd, x), (wd, w), (bd, b) = ins
    yd, y = outs[0]
    assert w.shape[1:3] == (1, 1) and options["strideH"] == options["strideW"] == 1
    depth = x.shape[-1]
    xs = x.reshape(-1, depth).astype(np.int64) - int(xd["quantization_parameters"]["zero_points"][0])
    ws = w.reshape(w.shape[0], depth).astype(np.int64) - int(wd["quantization_parameters"]["zero_points"][0])
    acc = xs @ ws.T + b.astype(np.int64)[None, :]
    s_in = np.float32(xd["quantization_parameters"]["scales"][0])
    s_w = np.float32(wd["quantization_parameters"]["scales"][0])
    s_out = float(yd["quantization_parameters"]["scales"][0])
    zp_out = int(yd["quantization_parameters"]["zero_points"][0])
    outputs = []
    for real in (float(np.float32(s_in * s_w)) / s_out, float(s_in) * float(s_w) / s_out):
        outputs.append(np.clip(tflite_rescale(acc, *tflite_quantize_multiplier(real)) + zp_out, 0, 255))
    pixels, channels = np.nonzero(outputs[0] != outputs[1])
    assert len(pixels) > 0, "no element depends on the multiplier's product precision"
    keep_pixels = sorted(set(pixels.tolist()) | set(range(8)))
    keep_channels = sorted(set(channels.tolist()) | set(range(4)))
    x2 = x.reshape(-1, depth)[keep_pixels][None, None]
    y2 = y.reshape(-1, y.shape[-1])[keep_pixels][:, keep_channels][None, None]
    ins = [(xd, x2), (wd, w[keep_channels]), (bd, b[keep_channels])]
    note = (f"1x1 conv: pixels {keep_pixels} as one row and output channels {keep_channels}, where "
            f"{len(pixels)} elements depend on the multiplier's float vs double product")
    return ins, [(yd, y2)], note


def crop_fixture(op_name, options, inputs, outputs, crop):
    """inputs/outputs: lists of (detail, array). Returns records and a description of the crop."""
    notes = []
    ins = [(d, a) for d, a in inputs]
    outs = [(d, a) for d, a in outputs]
    if op_name in ("CONV_2D", "DEPTHWISE_CONV_2D") and "corner" in crop:
        n = crop["corner"]
        x, w = ins[0][1], ins[1][1]
        kh, kw = w.shape[1], w.shape[2]
        sh, sw = options["strideH"], options["strideW"]
        assert options["padding"] == "VALID" or (
            same_padding_before(x.shape[1], kh, sh) == 0 and same_padding_before(x.shape[2], kw, sw) == 0)
        oh, ow = (n - kh) // sh + 1, (n - kw) // sw + 1
        ins[0] = (ins[0][0], x[:, :n, :n, :])
        outs[0] = (outs[0][0], outs[0][1][:, :oh, :ow, :])
        options = dict(options, padding="VALID")
        notes.append(f"top-left {n}x{n} input corner, VALID (TFLite SAME pads nothing before row/col 0 here)")
    if op_name == "CONV_2D" and crop.get("sensitive_pixels"):
        ins, outs, note = sensitive_pixels_crop(options, ins, outs)
        notes.append(note)
    if op_name == "CONV_2D" and "channels" in crop:
        k = crop["channels"]
        ins[1] = (ins[1][0], ins[1][1][:k])
        if len(ins) > 2:
            ins[2] = (ins[2][0], ins[2][1][:k])
        outs[0] = (outs[0][0], outs[0][1][..., :k])
        notes.append(f"first {k} output channels")
    elif op_name == "DEPTHWISE_CONV_2D" and "channels" in crop:
        k = crop["channels"]
        assert options["depthMultiplier"] == 1
        ins[0] = (ins[0][0], ins[0][1][..., :k])
        ins[1] = (ins[1][0], ins[1][1][..., :k])
        ins[2] = (ins[2][0], ins[2][1][:k])
        outs[0] = (outs[0][0], outs[0][1][..., :k])
        notes.append(f"first {k} channels")
    elif op_name in ("PAD", "RESIZE_BILINEAR") and "channels" in crop:
        k = crop["channels"]
        ins[0] = (ins[0][0], ins[0][1][..., :k])
        outs[0] = (outs[0][0], outs[0][1][..., :k])
        notes.append(f"first {k} channels")
    elif op_name in ("ADD", "MUL") and "elements" in crop:
        k = crop["elements"]
        assert ins[0][1].shape == ins[1][1].shape == outs[0][1].shape
        ins = [(d, a.reshape(-1)[:k]) for d, a in ins]
        outs = [(d, a.reshape(-1)[:k]) for d, a in outs]
        notes.append(f"first {k} elements, flattened")
    elif crop.get("unique"):
        x, y = ins[0][1].reshape(-1), outs[0][1].reshape(-1)
        values, first = np.unique(x, return_index=True)
        for v, i in zip(values, first):  # the op must be a function of the element alone
            assert np.all(y[x == v] == y[i])
        ins[0] = (ins[0][0], x[first])
        outs[0] = (outs[0][0], y[first])
        notes.append(f"the {len(values)} distinct input values and their outputs")
    elif op_name == "SOFTMAX" and "rows" in crop:
        k = crop["rows"]
        x, y = ins[0][1], outs[0][1]
        depth = x.shape[-1]
        x2, y2 = x.reshape(-1, depth), y.reshape(-1, depth)
        rows = np.linspace(0, x2.shape[0] - 1, k).astype(int)
        ins[0] = (ins[0][0], x2[rows])
        outs[0] = (outs[0][0], y2[rows])
        notes.append(f"{k} evenly spaced rows of {x2.shape[0]}")
    elif op_name == "CONCATENATION" and "keep_last" in crop:
        k = crop["keep_last"]
        assert options["axis"] != len(outs[0][1].shape) - 1
        ins = [(d, a[..., :k]) for d, a in ins]
        outs = [(d, a[..., :k]) for d, a in outs]
        notes.append(f"first {k} entries of the last axis")
    in_records = [tensor_record(d, a) for d, a in ins]
    out_records = [tensor_record(d, a) for d, a in outs]
    if op_name == "CONV_2D" and "channels" in crop:
        crop_quant(in_records[1], crop["channels"])
        if len(in_records) > 2:
            crop_quant(in_records[2], crop["channels"])
    if op_name == "DEPTHWISE_CONV_2D" and "channels" in crop:
        crop_quant(in_records[1], crop["channels"])
        crop_quant(in_records[2], crop["channels"])
    return options, in_records, out_records, "; ".join(notes) or "none"


def fp16_dequantize_fixture(model_path, count):
    interpreter = Interpreter(model_path=model_path,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                              experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"],
                           np.zeros(interpreter.get_input_details()[0]["shape"], np.float32))
    interpreter.invoke()
    for index, op in enumerate(interpreter._get_ops_details()):
        if op["op_name"] == "DEQUANTIZE" and details[op["inputs"][0]]["dtype"] == np.float16:
            x = interpreter.get_tensor(op["inputs"][0]).reshape(-1)
            y = interpreter.get_tensor(op["outputs"][0]).reshape(-1)
            return index, {}, [tensor_record(details[op["inputs"][0]], x[:count])], \
                [tensor_record(details[op["outputs"][0]], y[:count])], f"first {count} elements, flattened"
    raise SystemExit(f"{model_path}: no float16 DEQUANTIZE")


def main():
    cache = {}
    total = 0
    for model, op_index, crop in SELECTION:
        path = os.path.join(SHARED, model)
        if "dequantize_fp16" in crop:
            op_index, options, ins, outs, notes = fp16_dequantize_fixture(path, crop["dequantize_fp16"])
            op_name = "DEQUANTIZE"
            image_name = "none (constant weights)"
        else:
            image = os.path.join(os.path.dirname(IMAGE), crop["image"]) if "image" in crop else IMAGE
            if (model, image) not in cache:
                flat = schema.ModelT.InitFromPackedBuf(open(path, "rb").read(), 0)
                cache[(model, image)] = (run_reference(path, image), flat)
            interpreter, flat = cache[(model, image)]
            image_name = os.path.basename(image)
            details = {t["index"]: t for t in interpreter.get_tensor_details()}
            op = interpreter._get_ops_details()[op_index]
            op_name = op["op_name"]
            options = options_dict(flat.subgraphs[0].operators[op_index])
            inputs = [(details[i], interpreter.get_tensor(i)) for i in op["inputs"] if i >= 0]
            outputs = [(details[i], interpreter.get_tensor(i)) for i in op["outputs"]]
            options, ins, outs, notes = crop_fixture(op_name, options, inputs, outputs, crop)
        fixture = {
            "source": f"{model} operator {op_index}, LiteRT BUILTIN_REF, image {image_name}",
            "crop": notes,
            "op": op_name,
            "options": options,
            "inputs": ins,
            "outputs": outs,
        }
        name = f"{os.path.basename(model).split('.')[0]}_op{op_index}_{op_name.lower()}.json"
        text = json.dumps(fixture, indent=1)
        with open(os.path.join(HERE, name), "w") as f:
            f.write(text + "\n")
        total += len(text)
        print(f"{name}: {len(text)} bytes ({notes})")
    print(f"total {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
