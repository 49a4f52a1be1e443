#!/usr/bin/env python3
"""Makes every shared model in all three precisions with `ssd-energy quantize`, checks each file in LiteRT
and in our engine (same input, outputs compared), and scores EVERY file, shared and derived, twice on the
206-image subset: LiteRT + pycocotools with each model's own post-processing (../shared/reference-litert.md,
code imported from benchmarks/litert/compare_detections.py), and `ssd-energy eval --json` (our engine, our
evaluator, the `<out>.ssd.json` description quantize writes beside each file).

Exits non-zero when a derived file scores far below its source (AP < --min-ratio x the source's, in either
engine: a lost clamp or a wrong normalisation collapses AP) or when the two engines disagree on a file's AP
by more than --max-engine-difference.

Usage: python3 benchmarks/precision/run.py [--shared DIR] [--out DIR] [--samples N] [--method minmax]
                                           [--limit N] [--min-ratio 0.5] [--max-engine-difference 0.01]
Needs .build/release/ssd-energy (swift build -c release). Writes only into --out (never into shared).
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np
from PIL import Image
from ai_edge_litert import interpreter as litert
from pycocotools.coco import COCO

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks", "litert"))
from compare_detections import coco_map, reference_detections  # noqa: E402  (each model's own post-processing)

TOOL = os.path.join(ROOT, ".build", "release", "ssd-energy")
ap = argparse.ArgumentParser()
ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "ssd-energy-precision"))
ap.add_argument("--samples", type=int, default=100)
ap.add_argument("--method", default="minmax")
ap.add_argument("--limit", type=int, default=0, help="score only the first N subset images (0: all 206)")
ap.add_argument("--min-ratio", type=float, default=0.5, help="a derived file's AP must be >= this x its source's")
ap.add_argument("--max-engine-difference", type=float, default=0.01, help="largest |ours - LiteRT| AP per file")
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
M = os.path.join(args.shared, "models")
person = os.path.join(M, "ssdlite_mobilenet_v2_person")
v1 = os.path.join(M, "ssd_mobilenet_v1_coco_quant", "detect.tflite")
st = os.path.join(M, "ssd_mobilenet_v2_fpnlite_256_coco", "ssd_mobilenet_v2_fpnlite_10_256_int8.tflite")
out = lambda name: os.path.join(args.out, name)

def quantize(src, to, dst, *extra):
    subprocess.run([TOOL, "quantize", "--model", src, "--to", to, "--output", dst, "--data", args.shared, *extra],
                   check=True, stdout=subprocess.DEVNULL)
    return dst

print("## conversions")
made = {
    "person fp16 (ours)": quantize(os.path.join(person, "ssdlite_mobilenet_v2_person_fp32.tflite"), "fp16", out("person_fp16.tflite")),
    "person int8 (ours)": quantize(os.path.join(person, "ssdlite_mobilenet_v2_person_fp32.tflite"), "int8", out("person_int8.tflite"),
                                   "--samples", str(args.samples), "--method", args.method),
    "v1 fp32 (ours, from uint8)": quantize(v1, "fp32", out("v1_fp32.tflite")),
    "st fp32 (ours, from int8)": quantize(st, "fp32", out("st_fp32.tflite")),
}
made["v1 fp16 (ours, from our fp32)"] = quantize(made["v1 fp32 (ours, from uint8)"], "fp16", out("v1_fp16.tflite"))
made["st fp16 (ours, from our fp32)"] = quantize(made["st fp32 (ours, from int8)"], "fp16", out("st_fp16.tflite"))
for k, v in made.items(): print(f"{k}: {v} ({os.path.getsize(v)} bytes)")

subset = os.path.join(args.shared, "data", "coco-val2017-subset")
gt = COCO(os.path.join(subset, "instances_val2017_subset.json"))
images = sorted(gt.dataset["images"], key=lambda i: i["file_name"])

def input_for(interp, image, normalisation):
    d = interp.get_input_details()[0]
    h, w = d["shape"][1], d["shape"][2]
    px = np.asarray(image.convert("RGB").resize((w, h), Image.BILINEAR), dtype=np.float32)[None]
    if d["dtype"] == np.float32:
        mean, std = normalisation
        return ((px - mean) / std).astype(np.float32)
    return px.astype(d["dtype"])

def source_normalisation(path):
    """(mean, std) with value = (pixel - mean) / std equal to the source file's uint8 input quantization
    scale * (pixel - zero point), read by LiteRT from the shared file (not from our provenance)."""
    scale, zero_point = litert.Interpreter(model_path=path).get_input_details()[0]["quantization"]
    return float(zero_point), 1.0 / scale

# Float models derived from quantized ones take the normalisation equal to the source's input quantization;
# the person float models take x / 127.5 - 1 (reference-litert.md).
NORMALISATION = {"v1": source_normalisation(v1), "st": source_normalisation(st), "person": (127.5, 127.5)}

print("\n## same input, LiteRT (reference kernels, BUILTIN_REF) vs our engine (first subset image)")
print("Float outputs: max |difference| (our engine runs its optimized kernels, which sum in another order: small")
print("float differences are expected). Outputs dequantized from 8-bit: also in steps of that tensor's scale, which must be")
print("0 against the reference kernels (our 8-bit kernels are bit-exact with them).")
problems = []
first = Image.open(os.path.join(subset, "images", images[0]["file_name"]))
checks = dict(made)
checks["v1 uint8 (shared)"] = v1
checks["st int8 (shared)"] = st
for name, path in checks.items():
    family = name.split()[0]
    try:
        interp = litert.Interpreter(model_path=path, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
        kernels = ""
    except ValueError:  # the reference resolver lacks some op versions (the shared ST file's TILE v3)
        interp = litert.Interpreter(model_path=path)
        kernels = " [LiteRT default kernels: the reference resolver refuses this file]"
    interp.allocate_tensors()
    x = input_for(interp, first, NORMALISATION[family])
    interp.set_tensor(interp.get_input_details()[0]["index"], x); interp.invoke()
    details = {t["index"]: t for t in interp.get_tensor_details()}
    feeding = {op["outputs"][0]: op["inputs"][0] for op in interp._get_ops_details() if op["op_name"] == "DEQUANTIZE"}
    theirs, steps = [], []
    for o in interp.get_output_details():
        theirs.append(interp.get_tensor(o["index"]))
        source = details.get(feeding.get(o["index"], -1))
        steps.append(source["quantization"][0] if source is not None and source["dtype"] in (np.int8, np.uint8) else None)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "in.npy"), x)
        subprocess.run([TOOL, "invoke", "--model", path, "--input-npy", os.path.join(tmp, "in.npy"), "--outputs", tmp],
                       check=True, stdout=subprocess.DEVNULL)
        ours = [np.load(os.path.join(tmp, f"output_{i}.npy")) for i in range(len(theirs))]
    parts = []
    for a, b, step in zip(ours, theirs, steps):
        a = a.astype(np.float64); b = b.astype(np.float64)
        finite = np.isfinite(a) & np.isfinite(b)
        same_inf = bool(np.all((np.isfinite(a) == np.isfinite(b))))
        d = float(np.max(np.abs(a[finite] - b[finite]))) if finite.any() else 0.0
        parts.append(f"{d:.3g}" + (f" ({d / step:.2f} steps)" if step else "") + ("" if same_inf else " (non-finite mismatch)"))
        if not same_inf or (step and d != 0 and not kernels):
            problems.append(f"{name}: our output differs from LiteRT BUILTIN_REF on the first image ({parts[-1]})")
    print(f"{name}: {', '.join(parts)}{kernels}")


print("\n## AP of every file on the subset: LiteRT + pycocotools vs `ssd-energy eval` (our engine and evaluator)")
scored = images[: args.limit] if args.limit else images
image_ids = {os.path.splitext(i["file_name"])[0]: i["id"] for i in gt.dataset["images"]}
context = {  # what reference_detections needs: v1's label map, ST's class order, the person anchors
    "labelmap": open(os.path.join(M, "ssd_mobilenet_v1_coco_quant", "labelmap.txt")).read().splitlines(),
    "coco_ids": sorted(c["id"] for c in gt.dataset["categories"]),
    "person_anchors": np.fromfile(os.path.join(person, "anchors_1917x4_yxyx_f32.bin"), dtype="<f4").reshape(-1, 4).astype(np.float64),
}
# family -> reference_detections kind: v1 keeps its in-graph TFLite_Detection_PostProcess (at most 10 boxes,
# labelmap), ST has raw outputs (corner offsets, anchors output, NMS 0.45, 80 classes), person as reference-litert.md.
KIND = {"v1": "post_processed", "st": "st", "person": "person"}

def litert_ap(family, path):
    """LiteRT's default CPU path (XNNPACK), as reference-litert.md measured the shared files."""
    interp = litert.Interpreter(model_path=path); interp.allocate_tensors()
    detail, outs = interp.get_input_details()[0], interp.get_output_details()
    detections = {}
    for info in scored:
        image = Image.open(os.path.join(subset, "images", info["file_name"]))
        interp.set_tensor(detail["index"], input_for(interp, image, NORMALISATION[family])); interp.invoke()
        detections[os.path.splitext(info["file_name"])[0]] = reference_detections(
            KIND[family], [interp.get_tensor(o["index"]) for o in outs], context, image.width, image.height)
    return coco_map(gt, image_ids, detections, family == "person")

def start_ours(path):
    command = [TOOL, "eval", "--model", path, "--json", "--data", args.shared]
    if args.limit: command += ["--limit", str(args.limit)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def finish_ours(process, path):
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        sys.exit(f"ssd-energy eval --model {path} failed: {stderr.strip()}")
    stats = json.loads(stdout)["stats"]
    return stats[0], stats[1]

P = lambda name: os.path.join(person, f"ssdlite_mobilenet_v2_person_{name}.tflite")
calibration = f"{args.method}, {args.samples} images"
# (label, family, file, source label or None): every derived file names the file it was made from.
FILES = [
    ("person fp32 (converter, shared)", "person", P("fp32"), None),
    ("person fp16 (converter, shared)", "person", P("fp16"), None),
    ("person int8 (converter, shared)", "person", P("int8"), None),
    ("person fp16 (ours, from fp32)", "person", made["person fp16 (ours)"], "person fp32 (converter, shared)"),
    (f"person int8 (ours, from fp32, {calibration})", "person", made["person int8 (ours)"], "person fp32 (converter, shared)"),
    ("v1 uint8 (shared)", "v1", v1, None),
    ("v1 fp32 (ours, from uint8)", "v1", made["v1 fp32 (ours, from uint8)"], "v1 uint8 (shared)"),
    ("v1 fp16 (ours, from our fp32)", "v1", made["v1 fp16 (ours, from our fp32)"], "v1 fp32 (ours, from uint8)"),
    ("st int8 (shared)", "st", st, None),
    ("st fp32 (ours, from int8)", "st", made["st fp32 (ours, from int8)"], "st int8 (shared)"),
    ("st fp16 (ours, from our fp32)", "st", made["st fp16 (ours, from our fp32)"], "st fp32 (ours, from int8)"),
]
results = {}
print(f"{len(scored)} images; AP = AP@[.5:.95] (person files: category person only). ratio = this file's AP / its source's.")
print("| file | LiteRT AP | ours AP | ours - LiteRT | LiteRT AP50 | ours AP50 | source | ratio LiteRT / ours |")
print("|---|---|---|---|---|---|---|---|")
for label, family, path, source in FILES:
    if not path.endswith(".tflite") or not os.path.exists(path):
        sys.exit(f"{path}: missing")
    if source is not None and not os.path.exists(path[: -len(".tflite")] + ".ssd.json"):
        problems.append(f"{label}: quantize wrote no {os.path.basename(path)[:-len('.tflite')]}.ssd.json beside {path}")
    ours_process = start_ours(path)  # our engine runs while LiteRT scores the same file
    theirs = litert_ap(family, path)
    ours = finish_ours(ours_process, path)
    results[label] = (theirs, ours)
    difference = ours[0] - theirs[0]
    if abs(difference) > args.max_engine_difference:
        problems.append(f"{label}: ours AP {ours[0]:.4f} vs LiteRT {theirs[0]:.4f} (|difference| > {args.max_engine_difference})")
    ratio = ""
    if source is not None:
        (source_theirs, _), (source_ours, _) = results[source]
        r_theirs = theirs[0] / source_theirs if source_theirs > 0 else float("nan")
        r_ours = ours[0] / source_ours if source_ours > 0 else float("nan")
        ratio = f"{r_theirs:.3f} / {r_ours:.3f}"
        for engine, r in (("LiteRT", r_theirs), ("ours", r_ours)):
            if not r >= args.min_ratio:
                problems.append(f"{label}: {engine} AP is {r:.3f}x its source's ({source}); derived files must keep "
                                f">= {args.min_ratio}x")
    print(f"| {label} | {theirs[0]:.4f} | {ours[0]:.4f} | {difference:+.4f} | {theirs[1]:.4f} | {ours[1]:.4f} "
          f"| {source or '-'} | {ratio or '-'} |", flush=True)

conv16, ours16 = results["person fp16 (converter, shared)"][0][0], results["person fp16 (ours, from fp32)"][0][0]
conv8, ours8 = results["person int8 (converter, shared)"][0][0], results[FILES[4][0]][0][0]
print(f"person, LiteRT: fp16 ours - converter = {ours16 - conv16:+.4f}; int8 ours - converter = {ours8 - conv8:+.4f} "
      "(goal: within 0.005)")
if problems:
    print("\nERRORS:\n" + "\n".join(f"- {p}" for p in problems))
    sys.exit(1)
print(f"OK: every derived file keeps >= {args.min_ratio}x its source's AP in both engines; ours and LiteRT agree within "
      f"{args.max_engine_difference} AP on every file; 8-bit outputs equal LiteRT BUILTIN_REF's on the first image")
