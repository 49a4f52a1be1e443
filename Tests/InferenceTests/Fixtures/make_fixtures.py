#!/usr/bin/env python3
"""Writes the InferenceTests fixtures, all produced by LiteRT (ai-edge-litert) as the oracle:

- plan_facts.json: for each shared model, every tensor's shape after LiteRT has allocated and run it
  (so dynamically shaped tensors are resolved), and the values of the small INT32 activations (the
  SHAPE -> STRIDED_SLICE -> PACK chains), to check the Swift planner's shape inference and folding.
- e2e_<image>.u8: the image's 300x300 RGB pixels after PIL open/convert('RGB')/resize BILINEAR (raw
  uint8, HWC). The float input is x/127.5-1 in float32, which Swift recomputes bit-identically.
- e2e_<image>_<model>_<i>.npy: LiteRT's output i for that input, with the reference kernels
  (OpResolverType.BUILTIN_REF).

Usage: python3 make_fixtures.py [SHARED_DIR]   (default ../shared beside the repository)
"""
import json, os, sys
import numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter, OpResolverType

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
    it = Interpreter(model_path=os.path.join(shared, rel), experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    (inp,) = it.get_input_details()
    it.set_tensor(inp["index"], np.zeros(inp["shape"], dtype=inp["dtype"]))
    it.invoke()
    details = sorted(it.get_tensor_details(), key=lambda d: d["index"])
    shapes = [[int(x) for x in d["shape"]] for d in details]
    int32_values = {}
    for d in details:
        if d["dtype"] == np.int32 and 0 < int(np.prod(d["shape"])) <= 8:
            try:
                int32_values[str(d["index"])] = [int(v) for v in it.get_tensor(d["index"]).ravel()]
            except ValueError:
                pass
    facts[rel] = {"shapes": shapes, "int32Values": int32_values}
with open(os.path.join(here, "plan_facts.json"), "w") as f:
    json.dump(facts, f, separators=(",", ":"))

images = ["000000000139.jpg", "000000005001.jpg"]
for name in images:
    image = Image.open(os.path.join(shared, "data/coco-val2017-subset/images", name)).convert("RGB")
    pixels = np.asarray(image.resize((300, 300), Image.BILINEAR), dtype=np.uint8)
    stem = name.split(".")[0]
    pixels.tofile(os.path.join(here, f"e2e_{stem}.u8"))
    x = (pixels.astype(np.float32) / 127.5 - 1.0)[None].astype(np.float32)
    for precision in ["fp32", "fp16"]:
        path = os.path.join(shared, f"models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_{precision}.tflite")
        it = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        for i, d in enumerate(it.get_output_details()):
            np.save(os.path.join(here, f"e2e_{stem}_{precision}_{i}.npy"), it.get_tensor(d["index"]))
print("fixtures written to", here)
