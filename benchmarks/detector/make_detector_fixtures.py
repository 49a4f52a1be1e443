#!/usr/bin/env python3
"""Makes the Detector test fixtures from LiteRT (PyPI ai-edge-litert) and a plain numpy reference.

Writes into Tests/DetectorTests/Fixtures/:
- v1quant_*: for a few COCO images, the uint8 inputs of ssd_mobilenet_v1_coco_quant's
  TFLite_Detection_PostProcess op (box encodings, class scores, anchors) and its outputs, read from
  LiteRT with experimental_preserve_all_tensors (no delegate, so every tensor is kept). The op's
  options come from the model's flexbuffer custom options. Oracle for our detectionPostProcess.
- person_*: raw outputs of ssdlite_mobilenet_v2_person_fp32 from LiteRT (box encodings, logits) and
  the detections of the post-processing described in reference-litert.md, in numpy: sigmoid of
  logit 1, score > 0.05, centre-size decoding with scales 10,10,5,5 on the shipped anchors,
  greedy NMS IoU 0.6 (suppress when IoU > 0.6, ties by lower anchor index), top 100.

Preprocessing as the LiteRT reference: PIL RGB, resize to the input size with BILINEAR; uint8
models get raw pixels, float models x/127.5-1.

Usage: python3 benchmarks/detector/make_detector_fixtures.py [SHARED_DIR]
"""
import json
import os
import sys

import flatbuffers.flexbuffers as flexbuffers
import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")
IMAGES = os.path.join(SHARED, "data", "coco-val2017-subset", "images")
OUT = os.path.join(ROOT, "Tests", "DetectorTests", "Fixtures")
STEMS = ["000000000139", "000000000802", "000000005001"]
# The person model gets images with many people (338304: 14 annotated persons).
PERSON_STEMS = ["000000000139", "000000338304", "000000005001"]


def model_input(path, size, float_input):
    with Image.open(path) as im:
        pixels = np.asarray(im.convert("RGB").resize(size, Image.BILINEAR))
    if float_input:
        return (pixels.astype(np.float32) / 127.5 - 1.0)[None]
    return pixels[None]


def postprocess_options(model_path):
    """The op's flexbuffer custom options, found by decoding candidate byte ranges around a key."""
    data = open(model_path, "rb").read()
    at = data.find(b"max_detections")
    for start in range(at - 300, at):
        for end in range(at + 20, at + 700):
            try:
                value = flexbuffers.Loads(data[start:end])
            except Exception:
                continue
            if isinstance(value, dict) and "max_detections" in value and "num_classes" in value:
                return value
    raise SystemExit("custom options of TFLite_Detection_PostProcess not found")


def v1_quant():
    model = os.path.join(SHARED, "models", "ssd_mobilenet_v1_coco_quant", "detect.tflite")
    it = Interpreter(model_path=model, experimental_preserve_all_tensors=True,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    details = {t["index"]: t for t in it.get_tensor_details()}
    op = next(o for o in it._get_ops_details() if o["op_name"] == "TFLite_Detection_PostProcess")
    boxes_i, scores_i, anchors_i = (int(i) for i in op["inputs"])
    out_i = [int(i) for i in op["outputs"]]
    options = postprocess_options(model)
    quant = {name: {"scale": float(details[i]["quantization"][0]), "zero_point": int(details[i]["quantization"][1])}
             for name, i in (("boxes", boxes_i), ("scores", scores_i), ("anchors", anchors_i))}
    record = {"options": options, "quantization": quant,
              "shapes": {"boxes": details[boxes_i]["shape"].tolist(), "scores": details[scores_i]["shape"].tolist(),
                         "anchors": details[anchors_i]["shape"].tolist()},
              "images": []}
    inp = it.get_input_details()[0]
    for stem in STEMS:
        it.set_tensor(inp["index"], model_input(os.path.join(IMAGES, stem + ".jpg"), (300, 300), False))
        it.invoke()
        it.get_tensor(boxes_i).astype(np.uint8).tofile(os.path.join(OUT, f"v1quant_{stem}_boxes.u8"))
        it.get_tensor(scores_i).astype(np.uint8).tofile(os.path.join(OUT, f"v1quant_{stem}_scores.u8"))
        anchors = it.get_tensor(anchors_i).astype(np.uint8)
        boxes, classes, scores, num = (it.get_tensor(i) for i in out_i)
        n = int(num[0])
        record["images"].append({
            "stem": stem, "num_detections": n,
            # float32 values written as their exact float64 expansion, so they parse back bit-exactly.
            "boxes": [float(v) for v in boxes[0, :n].reshape(-1)],
            "classes": [float(v) for v in classes[0, :n]],
            "scores": [float(v) for v in scores[0, :n]],
        })
    anchors.tofile(os.path.join(OUT, "v1quant_anchors.u8"))
    with open(os.path.join(OUT, "v1quant_postprocess.json"), "w") as f:
        json.dump(record, f, indent=1)


def person_reference_detections(box_encodings, logits, anchors):
    scores = 1.0 / (1.0 + np.exp(-logits[:, 1].astype(np.float64)))
    ty, tx, th, tw = (box_encodings[:, i].astype(np.float64) for i in range(4))
    ay0, ax0, ay1, ax1 = (anchors[:, i].astype(np.float64) for i in range(4))
    ha, wa = ay1 - ay0, ax1 - ax0
    yc, xc = (ay0 + ay1) / 2, (ax0 + ax1) / 2
    cy, cx = ty / 10 * ha + yc, tx / 10 * wa + xc
    h, w = np.exp(th / 5) * ha, np.exp(tw / 5) * wa
    boxes = np.stack([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], axis=1)
    candidates = np.nonzero(scores > 0.05)[0]
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    keep = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    suppressed = np.zeros(len(scores), bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        if len(keep) == 100:
            break
        yy0 = np.maximum(boxes[i, 0], boxes[order, 0]); xx0 = np.maximum(boxes[i, 1], boxes[order, 1])
        yy1 = np.minimum(boxes[i, 2], boxes[order, 2]); xx1 = np.minimum(boxes[i, 3], boxes[order, 3])
        inter = np.maximum(yy1 - yy0, 0) * np.maximum(xx1 - xx0, 0)
        iou = inter / (area[i] + area[order] - inter)
        suppressed[order[iou > 0.6]] = True
    return [{"anchor": i, "score": float(scores[i]), "box_yxyx": [float(v) for v in boxes[i]]} for i in keep]


def person_fp32():
    folder = os.path.join(SHARED, "models", "ssdlite_mobilenet_v2_person")
    anchors = np.fromfile(os.path.join(folder, "anchors_1917x4_yxyx_f32.bin"), dtype="<f4").reshape(-1, 4)
    it = Interpreter(model_path=os.path.join(folder, "ssdlite_mobilenet_v2_person_fp32.tflite"))
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    outs = it.get_output_details()
    record = {"images": []}
    for stem in PERSON_STEMS:
        it.set_tensor(inp["index"], model_input(os.path.join(IMAGES, stem + ".jpg"), (300, 300), True))
        it.invoke()
        tensors = [it.get_tensor(o["index"]) for o in outs]
        box_encodings = next(t for t in tensors if t.shape[-1] == 4).reshape(-1, 4).astype("<f4")
        logits = next(t for t in tensors if t.shape[-1] == 2).reshape(-1, 2).astype("<f4")
        box_encodings.tofile(os.path.join(OUT, f"person_{stem}_boxes.f32"))
        logits.tofile(os.path.join(OUT, f"person_{stem}_logits.f32"))
        record["images"].append({"stem": stem, "detections": person_reference_detections(box_encodings, logits, anchors)})
    with open(os.path.join(OUT, "person_reference.json"), "w") as f:
        json.dump(record, f, indent=1)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    v1_quant()
    person_fp32()
