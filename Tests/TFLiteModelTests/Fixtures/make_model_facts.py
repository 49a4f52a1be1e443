#!/usr/bin/env python3
"""Writes model_facts.json: what LiteRT (and the flatbuffers package's own FlexBuffers decoder) say
about each shared model, as the independent oracle for the Swift .tflite reader tests.

Usage: python3 make_model_facts.py [SHARED_DIR]   (default ../shared beside the repository)
"""
import json, os, sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import flexbuffers

here = os.path.dirname(os.path.abspath(__file__))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../../shared")
models = [
    "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp32.tflite",
    "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp16.tflite",
    "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite",
    "models/ssd_mobilenet_v1_coco_quant/detect.tflite",
    "models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite",
]
facts = {}
for rel in models:
    path = os.path.join(shared, rel)
    it = Interpreter(model_path=path)
    tensors = []
    for d in sorted(it.get_tensor_details(), key=lambda d: d["index"]):
        q = d["quantization_parameters"]
        tensors.append({
            "index": int(d["index"]), "name": d["name"], "shape": [int(x) for x in d["shape"]],
            "dtype": np.dtype(d["dtype"]).name,
            "scales": len(q["scales"]),
            "firstScale": float(q["scales"][0]) if len(q["scales"]) else None,
            "lastZeroPoint": int(q["zero_points"][-1]) if len(q["zero_points"]) else None,
            "quantizedDimension": int(q["quantized_dimension"]),
        })
    ops = [{"name": o["op_name"], "inputs": [int(i) for i in o["inputs"]], "outputs": [int(i) for i in o["outputs"]]}
           for o in it._get_ops_details()]
    entry = {"tensors": tensors, "operators": ops,
             "inputs": [int(d["index"]) for d in it.get_input_details()],
             "outputs": [int(d["index"]) for d in it.get_output_details()]}
    # Custom options, decoded by the flatbuffers package's FlexBuffers implementation.
    with open(path, "rb") as f:
        buf = f.read()
    model = schema.Model.GetRootAsModel(buf, 0)
    sg = model.Subgraphs(0)
    custom = {}
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        if op.CustomOptionsLength() > 0:
            custom[str(i)] = flexbuffers.Loads(bytes(op.CustomOptionsAsNumpy()))
    entry["customOptions"] = custom
    facts[rel] = entry
with open(os.path.join(here, "model_facts.json"), "w") as f:
    json.dump(facts, f, separators=(",", ":"))
print("wrote", os.path.join(here, "model_facts.json"))
