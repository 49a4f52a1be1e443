#!/usr/bin/env python3
"""Writes Tests/DetectorTests/Fixtures/end_to_end_quantized.json: for each quantized shared model and
three COCO subset photos (a person with a dog, people with kites, a crowd), the detections of LiteRT's reference
kernels (BUILTIN_REF) + the reference post-processing of /work/shared/reference-litert.md, in pixels
of the original image (see compare_detections.py for the post-processing).

Scores are float32 values written as their exact double; boxes as float64 pixels. The v1 model's boxes
come out of the graph (float32, scaled in float64 exactly as `detect` does: equal but for JSON parsing);
the ST and person boxes are decoded in float64 here but in float32 by `detect`, hence their tolerance.

Usage: python3 benchmarks/litert/make_end_to_end_fixture.py [SHARED_DIR]
"""
import json, os, sys
import numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from compare_detections import MODELS, model_input, reference_detections
from compare_quantized import litert_model_bytes

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
STEMS = ["000000404484", "000000357888", "000000005001"]
# v1: the same float64 products on both sides; 1e-6 px only absorbs Foundation's JSON number parsing,
# which is not always correctly rounded (seen: 1e-13 px). ST/person: float32 vs float64 decoding.
TOLERANCE_PX = {"post_processed": 1e-6, "st": 1e-3, "person": 1e-3}


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(ROOT, "../shared"))
    subset = os.path.join(shared, "data/coco-val2017-subset")
    categories = json.load(open(os.path.join(subset, "instances_val2017_subset.json")))["categories"]
    ctx = {
        "labelmap": open(os.path.join(shared, "models/ssd_mobilenet_v1_coco_quant/labelmap.txt")).read().splitlines(),
        "coco_ids": sorted(c["id"] for c in categories),
        "person_anchors": np.fromfile(os.path.join(shared, "models/ssdlite_mobilenet_v2_person/anchors_1917x4_yxyx_f32.bin"),
                                      dtype="<f4").reshape(-1, 4).astype(np.float64),
    }
    record = {"generator": "benchmarks/litert/make_end_to_end_fixture.py", "models": []}
    for key in ("v1", "st", "person_int8"):
        relative, kind = MODELS[key]
        litert = Interpreter(model_content=litert_model_bytes(os.path.join(shared, "models", relative)),
                             experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        litert.allocate_tensors()
        detail = litert.get_input_details()[0]
        entry = {"model": "models/" + relative, "box_tolerance_px": TOLERANCE_PX[kind], "images": []}
        for stem in STEMS:
            path = os.path.join(subset, "images", stem + ".jpg")
            litert.set_tensor(detail["index"], model_input(path, detail))
            litert.invoke()
            width, height = Image.open(path).size
            detections = reference_detections(kind, [litert.get_tensor(o["index"]) for o in litert.get_output_details()],
                                              ctx, width, height)
            entry["images"].append({"image": f"data/coco-val2017-subset/images/{stem}.jpg", "detections": [
                {"category_id": c, "score": float(s), "box_xyxy": [float(v) for v in b]} for c, s, b in detections]})
        record["models"].append(entry)
    out = os.path.join(ROOT, "Tests/DetectorTests/Fixtures/end_to_end_quantized.json")
    with open(out, "w") as f:
        json.dump(record, f, indent=1)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
