#!/usr/bin/env python3
"""Makes the Detector test fixtures from LiteRT (PyPI ai-edge-litert) and a plain numpy reference.

Writes into Tests/DetectorTests/Fixtures/:
- v1quant_*: for a few COCO images, the uint8 inputs of ssd_mobilenet_v1_coco_quant's
  TFLite_Detection_PostProcess op (box encodings, class scores, anchors) and its outputs, read from
  LiteRT with experimental_preserve_all_tensors (no delegate, so every tensor is kept). The op's
  options come from the model's flexbuffer custom options. Oracle for our detectionPostProcess.
- st_*: raw outputs of ssd_mobilenet_v2_fpnlite_256_coco (int8) from LiteRT for one image (scores
  stored sparsely: they are exact multiples of 1/256 and mostly 0) and the detections of the
  reference post-processing of reference-litert.md in numpy: argmax class over 1..80 per anchor,
  score > 0.05, corner-offset decoding on the anchors output, class-wise greedy NMS IoU 0.45
  (suppress when IoU > 0.45; equal scores by lower anchor index), top 100.
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
# Two images for the v1 post-process (both have exact score ties among their 10 outputs); kept
# to two so the fixtures stay under 1 MB.
V1_STEMS = ["000000000802", "000000005001"]
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
    for stem in V1_STEMS:
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


def greedy_nms(boxes, scores, order, iou_threshold):
    """Greedy NMS over `order` (already sorted); boxes as ymin, xmin, ymax, xmax."""
    keep = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    suppressed = set()
    for position, i in enumerate(order):
        if i in suppressed:
            continue
        keep.append(int(i))
        rest = order[position + 1:]
        yy0 = np.maximum(boxes[i, 0], boxes[rest, 0]); xx0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        yy1 = np.minimum(boxes[i, 2], boxes[rest, 2]); xx1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.maximum(yy1 - yy0, 0) * np.maximum(xx1 - xx0, 0)
        iou = inter / (area[i] + area[rest] - inter)
        suppressed.update(int(j) for j in rest[iou > iou_threshold])
    return keep


def st_fpnlite():
    model = os.path.join(SHARED, "models", "ssd_mobilenet_v2_fpnlite_256_coco", "ssd_mobilenet_v2_fpnlite_10_256_int8.tflite")
    it = Interpreter(model_path=model)
    stem = STEMS[0]
    names = it.get_signature_list()["serving_default"]["outputs"]
    # The signature names the outputs, so which [N,4] tensor holds the anchors is known here.
    result = it.get_signature_runner("serving_default")(
        input_1=model_input(os.path.join(IMAGES, stem + ".jpg"), (256, 256), False))
    anchors_xyxy, deltas, scores = (result[k][0] for k in ("anchors_concat", "bboxes_concat", "classes_softmax"))
    q = np.rint(scores * 256)
    assert np.array_equal(q / 256, scores), "scores are not multiples of 1/256"
    rows, cols = np.nonzero(q)
    np.stack([rows, cols, q[rows, cols]], axis=1).astype("<u2").tofile(os.path.join(OUT, f"st_{stem}_scores_sparse.u16"))
    deltas.astype("<f4").tofile(os.path.join(OUT, f"st_{stem}_deltas.f32"))
    anchors_xyxy.astype("<f4").tofile(os.path.join(OUT, f"st_{stem}_anchors.f32"))

    s = scores.astype(np.float64)
    cls = np.argmax(s[:, 1:], axis=1) + 1
    best = s[np.arange(len(s)), cls]
    a = anchors_xyxy.astype(np.float64); dl = deltas.astype(np.float64)
    wa, ha = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    x1, y1 = dl[:, 0] * wa + a[:, 0], dl[:, 1] * ha + a[:, 1]
    x2, y2 = dl[:, 2] * wa + a[:, 2], dl[:, 3] * ha + a[:, 3]
    boxes = np.stack([y1, x1, y2, x2], axis=1)
    kept = []
    for c in np.unique(cls[best > 0.05]):
        members = np.nonzero((cls == c) & (best > 0.05))[0]
        order = members[np.argsort(-best[members], kind="stable")]
        kept += [(int(i), int(c)) for i in greedy_nms(boxes, best, order, 0.45)]
    kept.sort(key=lambda ic: (-best[ic[0]], ic[0]))
    kept = kept[:100]
    record = {"stem": stem, "shape": list(scores.shape), "output_names": names,
              "detections": [{"anchor": i, "class": c, "score": float(best[i]), "box_yxyx": [float(v) for v in boxes[i]]}
                             for i, c in kept]}
    with open(os.path.join(OUT, "st_reference.json"), "w") as f:
        json.dump(record, f, indent=1)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    v1_quant()
    person_fp32()
    st_fpnlite()
