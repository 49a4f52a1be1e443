#!/usr/bin/env python3
"""Writes the fixtures for the in-graph TFLite_Detection_PostProcess op and for load-time refusal:

- v1quant_<image>_outputs.json: LiteRT's four outputs (reference kernels, OpResolverType.BUILTIN_REF)
  of ssd_mobilenet_v1_coco_quant/detect.tflite for the uint8 input e2e_<image>.u8 (written by
  make_fixtures.py). Float32 values are stored as Python floats (exact).
- ops/floor_unsupported.tflite: a one-op FLOOR model, an op the engine has no kernel for.

Usage: python3 make_postprocess_fixtures.py [SHARED_DIR]   (default ../shared beside the repository)
"""
import json, os, sys
import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as s
from ai_edge_litert.interpreter import Interpreter, OpResolverType

here = os.path.dirname(os.path.abspath(__file__))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../../shared")
model = os.path.join(shared, "models/ssd_mobilenet_v1_coco_quant/detect.tflite")

for image in ["000000000139", "000000005001"]:
    x = np.fromfile(os.path.join(here, f"e2e_{image}.u8"), dtype=np.uint8).reshape(1, 300, 300, 3)
    it = Interpreter(model_path=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    outs = [it.get_tensor(d["index"]) for d in it.get_output_details()]
    doc = {"image": image, "outputs": [{"shape": [int(v) for v in o.shape],
                                        "values": [float(v) for v in o.astype(np.float32).ravel()]} for o in outs]}
    with open(os.path.join(here, f"v1quant_{image}_outputs.json"), "w") as f:
        json.dump(doc, f)
    print(image, "detections:", int(outs[3][0]))

# FLOOR: [2,3] float32 -> [2,3] float32.
t_in, t_out = s.TensorT(), s.TensorT()
for i, t in enumerate([t_in, t_out]):
    t.shape, t.type, t.name, t.buffer = [2, 3], s.TensorType.FLOAT32, f"t{i}", 0
op = s.OperatorT()
op.opcodeIndex, op.inputs, op.outputs = 0, [0], [1]
g = s.SubGraphT()
g.tensors, g.inputs, g.outputs, g.operators = [t_in, t_out], [0], [1], [op]
code = s.OperatorCodeT()
code.builtinCode, code.deprecatedBuiltinCode, code.version = s.BuiltinOperator.FLOOR, s.BuiltinOperator.FLOOR, 1
m = s.ModelT()
m.version, m.subgraphs, m.buffers, m.operatorCodes = 3, [g], [s.BufferT()], [code]
builder = flatbuffers.Builder(0)
builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
with open(os.path.join(here, "ops", "floor_unsupported.tflite"), "wb") as f:
    f.write(bytes(builder.Output()))
