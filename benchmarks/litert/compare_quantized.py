#!/usr/bin/env python3
"""Compares ssd-energy's Swift engine with LiteRT on the three quantized SSD models, image by image,
output tensor by output tensor, and characterises where LiteRT's own XNNPACK path rounds differently.

For each image of the COCO subset: PIL open -> RGB -> resize to the model input (BILINEAR) -> raw
uint8 pixels (as /work/shared/reference-litert.md; every quantized model here takes uint8 pixels),
saved as <stem>.npy. `ssd-energy invoke --input-npy-dir` runs all arrays through one interpreter;
LiteRT runs the same arrays with its reference kernels (BUILTIN_REF) and/or its default XNNPACK path.

The models' outputs are float32 but each is a DEQUANTIZE of an integer tensor (uint8/int8), except
the v1 model's TFLite_Detection_PostProcess outputs (boxes, classes, scores, count: float by nature).
For dequantized outputs the difference is reported in quantization steps of the integer tensor
(|a - b| / scale); for the post-process outputs as an absolute difference.

Pass rule vs BUILTIN_REF: every output tensor bit-identical (exit 1 otherwise). Vs the default path
nothing is required; the script counts tensors/elements that differ and the largest step.

--ops-images N (default 3, 0 to skip, only with the default resolver): runs both LiteRT paths with
experimental_preserve_all_tensors=True on the first N images and compares every intermediate
quantized tensor op by op. With that option LiteRT gives each operator its own XNNPACK partition
(checked: the default path's final outputs are unchanged), so every op's output is XNNPACK's own.
Per op type it reports the fraction of elements off by exactly one step and by more, both over all
ops and over "isolated" ops only (all integer inputs still identical in the two paths, so any
difference is that op's own rounding, not an inherited one).

Usage:
  python3 benchmarks/litert/compare_quantized.py .build/release/ssd-energy [--resolver both]
      [--limit N] [--every K] [--models v1 st person] [--ops-images 3] [--data ../shared]
"""
import argparse, glob, os, subprocess, sys, tempfile, time, warnings
from collections import defaultdict
import flatbuffers
import numpy as np
from PIL import Image
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType

MODELS = {
    "v1": "ssd_mobilenet_v1_coco_quant/detect.tflite",
    "st": "ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite",
    "person": "ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite",
}
RESOLVERS = {"builtin_ref": OpResolverType.BUILTIN_REF, "default": OpResolverType.AUTO}


def preprocess_uint8(path, height, width):
    image = Image.open(path).convert("RGB").resize((width, height), Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8)[None]


def litert_model_bytes(path):
    """The model as LiteRT's reference resolver accepts it: TILE's opcode version lowered to 2 (the
    highest BUILTIN_REF registers; version 3 only adds more input types, our model's TILE is int32).
    The engine under test always runs the unmodified file."""
    model = schema.ModelT.InitFromPackedBuf(open(path, "rb").read(), 0)
    for code in model.operatorCodes:
        if code.builtinCode == schema.BuiltinOperator.TILE and code.version > 2:
            code.version = 2
    return pack(model)


def without_post_process(path):
    """A copy of a model ending in TFLite_Detection_PostProcess whose outputs are that operator's
    inputs (the integer box encodings and class scores), so those are compared too."""
    model = schema.ModelT.InitFromPackedBuf(open(path, "rb").read(), 0)
    graph = model.subgraphs[0]
    last = graph.operators[-1]
    if model.operatorCodes[last.opcodeIndex].customCode != b"TFLite_Detection_PostProcess":
        return None
    graph.outputs = [int(i) for i in last.inputs[:2]]
    graph.operators = graph.operators[:-1]
    return pack(model)


def pack(model):
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def output_steps(litert):
    """For each output: ("int", 1) when it is an integer tensor, ("dequantized", scale) when it is
    the DEQUANTIZE of one, None when it is float by nature (post-process outputs)."""
    producers = {}
    for op in litert._get_ops_details():
        if op["op_name"] == "DELEGATE":
            continue  # XNNPACK's stand-in node; the graph's own producer is listed too
        for t in op["outputs"]:
            producers[int(t)] = op
    details = {d["index"]: d for d in litert.get_tensor_details()}
    steps = []
    for out in litert.get_output_details():
        op = producers.get(out["index"])
        if np.issubdtype(out["dtype"], np.integer):
            steps.append(("int", 1))
        elif op is not None and op["op_name"] == "DEQUANTIZE":
            scale, _ = details[int(op["inputs"][0])]["quantization"]
            steps.append(("dequantized", scale) if scale > 0 else None)
        else:
            steps.append(None)
    return steps


class OutputStats:
    def __init__(self, count):
        self.tensors = 0
        self.equal_tensors = 0
        self.elements = 0
        self.differing = [0] * count
        self.max_steps = [0.0] * count          # dequantized outputs
        self.max_abs = [0.0] * count            # float outputs
        self.images_differing = 0

    def add(self, ours, theirs, steps, name, image, log):
        image_differs = False
        for i, (a, b) in enumerate(zip(ours, theirs)):
            self.tensors += 1
            self.elements += b.size
            if a.dtype != b.dtype or a.shape != b.shape:
                log(f"{name} {image} output {i}: ours {a.dtype}{a.shape}, LiteRT {b.dtype}{b.shape}")
                self.differing[i] += b.size
                image_differs = True
                continue
            # Bitwise equality (NaN-safe, distinguishes -0.0).
            unequal = a.view(np.uint8).reshape(a.size, -1) != b.view(np.uint8).reshape(b.size, -1)
            unequal = unequal.any(axis=1)
            n = int(unequal.sum())
            if n == 0:
                self.equal_tensors += 1
                continue
            image_differs = True
            self.differing[i] += n
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            if steps[i] is not None:
                self.max_steps[i] = max(self.max_steps[i], float(np.round(diff.max() / steps[i][1], 3)))
            else:
                self.max_abs[i] = max(self.max_abs[i], float(diff.max()))
        self.images_differing += image_differs


def compare_outputs(args, name, model_path, litert_bytes, images, work, resolvers, log):
    """Runs the engine on `model_path` and LiteRT on `litert_bytes` (the same graph), same inputs."""
    probe = Interpreter(model_content=litert_bytes)
    probe.allocate_tensors()
    (inp,) = probe.get_input_details()
    _, height, width, _ = inp["shape"]
    steps = output_steps(probe)

    inputs_dir = os.path.join(work, name, "inputs")
    os.makedirs(inputs_dir, exist_ok=True)
    arrays = {}
    for path in images:
        stem = os.path.splitext(os.path.basename(path))[0]
        arrays[stem] = preprocess_uint8(path, height, width)
        np.save(os.path.join(inputs_dir, stem + ".npy"), arrays[stem])
    ours_dir = os.path.join(work, name, "ours")
    started = time.time()
    subprocess.run([args.ssd_energy, "invoke", "--model", model_path, "--input-npy-dir", inputs_dir,
                    "--outputs", ours_dir], check=True)
    log(f"{name}: ssd-energy invoke ran {len(images)} images in {time.time() - started:.0f} s")

    ok = True
    for resolver in resolvers:
        litert = Interpreter(model_content=litert_bytes, experimental_op_resolver_type=RESOLVERS[resolver])
        litert.allocate_tensors()
        outs = litert.get_output_details()
        stats = OutputStats(len(outs))
        for stem, x in arrays.items():
            litert.set_tensor(inp["index"], x)
            litert.invoke()
            theirs = [litert.get_tensor(o["index"]).copy() for o in outs]
            ours = [np.load(os.path.join(ours_dir, stem, f"output_{i}.npy")) for i in range(len(outs))]
            stats.add(ours, theirs, steps, name, stem, log)
        parts = []
        for i, o in enumerate(outs):
            if steps[i] is None:
                unit = f"max abs diff {stats.max_abs[i]:.3g}"
            elif steps[i][0] == "int":
                unit = f"max {stats.max_steps[i]:g} steps"
            else:
                unit = f"max {stats.max_steps[i]:g} steps of the dequantized {steps[i][1]:.6g}"
            shape = "x".join(str(int(d)) for d in o["shape"])
            parts.append(f"  output {i} {o['name']} {o['dtype'].__name__}[{shape}]: "
                         f"{stats.differing[i]} elements differ, {unit}")
        identical = stats.equal_tensors == stats.tensors
        if resolver == "builtin_ref" and not identical:
            ok = False
        verdict = ("IDENTICAL" if identical else
                   "MISMATCH" if resolver == "builtin_ref" else "differs (expected: other kernels)")
        log(f"{name} vs LiteRT {resolver}: {len(arrays)} images, {stats.equal_tensors}/{stats.tensors} output "
            f"tensors bit-identical, {stats.images_differing} images with any difference, "
            f"{sum(stats.differing)}/{stats.elements} elements differ -> {verdict}")
        for line in parts:
            log(line)
    return ok, arrays


def single_op_model(model, graph, op):
    """`model` (a ModelT, modified in place and restored) reduced to one operator whose non-constant
    inputs become the graph inputs; tensors keep their indices, so values move over by index."""
    def constant(t):
        data = model.buffers[graph.tensors[t].buffer].data
        return data is not None and len(data) > 0
    saved = graph.operators, graph.inputs, graph.outputs, model.signatureDefs
    graph.operators = [op]
    graph.inputs = [int(t) for t in op.inputs if t >= 0 and not constant(t)]
    graph.outputs = [int(t) for t in op.outputs]
    model.signatureDefs = []
    try:
        return pack(model), graph.inputs
    finally:
        graph.operators, graph.inputs, graph.outputs, model.signatureDefs = saved


def characterise_ops(name, litert_bytes, arrays, count, log):
    """Which operators LiteRT's default (XNNPACK) path rounds differently from its reference kernels.

    1. Both paths run the whole graph with experimental_preserve_all_tensors=True (each operator
       then gets its own XNNPACK partition; checked: the final outputs stay those of the normal
       default path) and every intermediate quantized tensor is compared: "in graph" columns, where
       differences are inherited from earlier operators and compound.
    2. Each operator alone: a one-operator copy of the model gets the reference path's own input
       values for that operator and runs in both paths: "alone" columns, that operator's own
       rounding only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LiteRT warns that preserve_all_tensors is for debugging
        ref = Interpreter(model_content=litert_bytes, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                          experimental_preserve_all_tensors=True)
        xnn = Interpreter(model_content=litert_bytes, experimental_op_resolver_type=OpResolverType.AUTO,
                          experimental_preserve_all_tensors=True)
        plain = Interpreter(model_content=litert_bytes, experimental_op_resolver_type=OpResolverType.AUTO)
    for it in (ref, xnn, plain):
        it.allocate_tensors()
    ops = ref._get_ops_details()
    details = {d["index"]: d for d in ref.get_tensor_details()}
    inp = ref.get_input_details()[0]["index"]
    model = schema.ModelT.InitFromPackedBuf(litert_bytes, 0)
    graph = model.subgraphs[0]

    def quantized(t):
        d = details[t]
        return d["dtype"] in (np.int8, np.uint8, np.int16, np.int32) and d["quantization"][0] != 0

    # per op type: ops, in-graph [elements, off 1, off >1, max], alone [elements, off 1, off >1, max]
    in_graph = defaultdict(lambda: [0, 0, 0, 0])
    alone = defaultdict(lambda: [0, 0, 0, 0])
    op_counts = defaultdict(int)
    not_xnnpack = set()
    unchanged = True
    stems = list(arrays)[:count]
    reference_values = []
    for stem in stems:
        for it in (ref, xnn, plain):
            it.set_tensor(inp, arrays[stem])
            it.invoke()
        for o in plain.get_output_details():
            unchanged &= bool(np.array_equal(plain.get_tensor(o["index"]), xnn.get_tensor(o["index"])))
        values = {}
        for op in ops:
            for t in (int(t) for t in op["inputs"] if t >= 0):
                values.setdefault(t, ref.get_tensor(t).copy())
            for t in (int(t) for t in op["outputs"]):
                if quantized(t):
                    steps = np.abs(ref.get_tensor(t).astype(np.int64) - xnn.get_tensor(t).astype(np.int64))
                    tally(in_graph[op["op_name"]], steps)
        reference_values.append(values)

    for k, op in enumerate(ops):
        op_counts[op["op_name"]] += 1
        outputs = [int(t) for t in op["outputs"] if quantized(int(t))]
        if not outputs or op["op_name"] == "TFLite_Detection_PostProcess":
            continue
        content, inputs = single_op_model(model, graph, graph.operators[k])
        pair = [Interpreter(model_content=content, experimental_op_resolver_type=r)
                for r in (OpResolverType.BUILTIN_REF, OpResolverType.AUTO)]
        for it in pair:
            it.allocate_tensors()
        if not any(o["op_name"] == "DELEGATE" for o in pair[1]._get_ops_details()):
            not_xnnpack.add(op["op_name"])
        for values in reference_values:
            for it in pair:
                for t in inputs:
                    it.set_tensor(t, values[t])
                it.invoke()
            for t in outputs:
                steps = np.abs(pair[0].get_tensor(t).astype(np.int64) - pair[1].get_tensor(t).astype(np.int64))
                tally(alone[op["op_name"]], steps)

    log(f"{name}: LiteRT default (XNNPACK) vs BUILTIN_REF, quantized tensors, {len(stems)} images; op types "
        f"the default path runs with LiteRT's own kernels, not XNNPACK: {sorted(not_xnnpack) or 'none'}; "
        f"default outputs unchanged by preserve_all_tensors: {unchanged}")
    log(f"  {'op type':<18} {'ops':>4} | alone: {'off by 1':>9} {'off >1':>8} {'max':>4} | in graph: {'off by 1':>9} {'off >1':>8} {'max':>4}")
    pct = lambda n, d: f"{100 * n / d:.3f}%" if d else "-"
    for op_name in sorted(op_counts):
        a, g = alone[op_name], in_graph[op_name]
        if not g[0]:
            continue
        log(f"  {op_name:<18} {op_counts[op_name]:>4} |        {pct(a[1], a[0]):>9} {pct(a[2], a[0]):>8} {a[3]:>4} |"
            f"           {pct(g[1], g[0]):>9} {pct(g[2], g[0]):>8} {g[3]:>4}")


def tally(row, steps):
    row[0] += steps.size
    row[1] += int((steps == 1).sum())
    row[2] += int((steps > 1).sum())
    row[3] = max(row[3], int(steps.max()) if steps.size else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ssd_energy", help="path to the ssd-energy binary (release build)")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--data", default=os.path.normpath(os.path.join(here, "../../../shared")))
    parser.add_argument("--resolver", choices=["builtin_ref", "default", "both"], default="both")
    parser.add_argument("--limit", type=int, default=0, help="compare at most N images")
    parser.add_argument("--every", type=int, default=1, help="take every K-th image")
    parser.add_argument("--models", nargs="*", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--only", choices=["outputs", "post_process_inputs", "ops"],
                        help="run one part: the models' outputs, the v1 post-process inputs, or the op-by-op "
                             "LiteRT characterisation (LiteRT only, no engine run)")
    parser.add_argument("--ops-images", type=int, default=3,
                        help="images for the op-by-op XNNPACK characterisation (0: skip)")
    args = parser.parse_args()

    images = sorted(glob.glob(os.path.join(args.data, "data/coco-val2017-subset/images/*.jpg")))[:: args.every]
    if args.limit:
        images = images[: args.limit]
    if not images:
        sys.exit(f"no images under {args.data}/data/coco-val2017-subset/images")
    resolvers = ["builtin_ref", "default"] if args.resolver == "both" else [args.resolver]

    def log(line):
        print(line, flush=True)

    failed = False
    with tempfile.TemporaryDirectory(prefix="compare_quantized_") as work:
        for key in args.models:
            model_path = os.path.join(args.data, "models", MODELS[key])
            name = os.path.basename(model_path)
            litert_bytes = litert_model_bytes(model_path)
            if args.only in (None, "outputs"):
                ok, arrays = compare_outputs(args, name, model_path, litert_bytes, images, work, resolvers, log)
                failed |= not ok
            else:
                arrays = {}
                for path in images[: args.ops_images]:
                    probe = Interpreter(model_content=litert_bytes)
                    _, height, width, _ = probe.get_input_details()[0]["shape"]
                    arrays[os.path.splitext(os.path.basename(path))[0]] = preprocess_uint8(path, height, width)
            truncated = without_post_process(model_path) if args.only in (None, "post_process_inputs") else None
            if truncated is not None:
                truncated_path = os.path.join(work, "models", name.replace(".tflite", "_without_post_process.tflite"))
                os.makedirs(os.path.dirname(truncated_path), exist_ok=True)
                with open(truncated_path, "wb") as f:
                    f.write(truncated)
                ok, _ = compare_outputs(args, os.path.basename(truncated_path), truncated_path, truncated,
                                        images, work, resolvers, log)
                failed |= not ok
            if "default" in resolvers and args.ops_images > 0 and args.only in (None, "ops"):
                characterise_ops(name, litert_bytes, arrays, min(args.ops_images, len(arrays)), log)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
