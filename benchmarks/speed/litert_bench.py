#!/usr/bin/env python3
"""Times one model in LiteRT (PyPI ai-edge-litert, default XNNPACK path) or ONNX Runtime, on the same
preprocessed image as `ssd-energy bench`, and prints one JSON object (median_ms, peak_rss_bytes).
Run in its own process so peak RSS belongs to this runtime alone."""
import argparse, json, resource, statistics, sys, time

import numpy as np
from PIL import Image


def image_tensor(path, height, width, dtype):
    # As ../shared/reference-litert.md: whole image, PIL bilinear; floats x/127.5-1, uint8 raw pixels.
    pixels = np.asarray(Image.open(path).convert("RGB").resize((width, height), Image.BILINEAR))
    if dtype == np.float32:
        return (pixels.astype(np.float32) / 127.5 - 1.0)[None]
    if dtype == np.uint8:
        return pixels[None].astype(np.uint8)
    sys.exit(f"unsupported input type {dtype}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--runtime", choices=["litert", "onnxruntime"], default="litert")
    args = parser.parse_args()

    if args.runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter
        interpreter = Interpreter(model_path=args.model, num_threads=args.threads)
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        _, height, width, _ = detail["shape"]
        interpreter.set_tensor(detail["index"], image_tensor(args.image, height, width, detail["dtype"]))
        run = interpreter.invoke
    else:
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
        node = session.get_inputs()[0]
        _, height, width, _ = node.shape
        dtype = np.uint8 if node.type == "tensor(uint8)" else np.float32
        feed = {node.name: image_tensor(args.image, height, width, dtype)}
        run = lambda: session.run(None, feed)

    for _ in range(args.warmup):
        run()
    times = []
    for _ in range(args.iterations):
        start = time.perf_counter_ns()
        run()
        times.append(time.perf_counter_ns() - start)
    print(json.dumps({"median_ms": statistics.median(times) / 1e6, "min_ms": min(times) / 1e6,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


if __name__ == "__main__":
    main()
