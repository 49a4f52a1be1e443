#!/usr/bin/env bash
# Our graph latency (1 thread) with each instruction set's kernels, as a CPU without AVX-512 (or without
# AVX2) would run them: `bench --isa`. Interleaved by round so load from other processes hits all alike;
# prints the median over rounds of each configuration's per-round median (ms).
# Usage: benchmarks/speed/isa_table.sh BINARY [rounds] [DATA]
set -euo pipefail
binary=${1:?usage: isa_table.sh BINARY [rounds] [DATA]}
rounds=${2:-3}
data=${3:-${SSD_ENERGY_DATA:-$(dirname "$0")/../../../shared}}
models=(
  "person fp32:models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp32.tflite"
  "person int8:models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite"
  "v1 uint8:models/ssd_mobilenet_v1_coco_quant/detect.tflite"
  "ST int8:models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite"
)
isas=(avx512 avx2 portable)
declare -A times
for model in "${models[@]}"; do
  [ -f "$data/${model#*:}" ] || { echo "isa_table: missing $data/${model#*:}" >&2; exit 1; }
done
for ((round = 0; round < rounds; round++)); do
  for model in "${models[@]}"; do
    for isa in "${isas[@]}"; do
      ms=$("$binary" bench --model "$data/${model#*:}" --isa "$isa" --iterations 10 --warmup 2 --json \
           | python3 -c 'import json, sys; print(json.load(sys.stdin)["median_ms"])')
      times["$model|$isa"]+="$ms "
    done
  done
done
printf '| model | %s |\n|---|%s\n' "$(IFS='|'; echo "${isas[*]}" | sed 's/|/ ms | /g') ms" "$(printf -- '---|%.0s' "${isas[@]}")"
for model in "${models[@]}"; do
  row="| ${model%%:*} |"
  for isa in "${isas[@]}"; do
    row+=" $(echo ${times["$model|$isa"]} | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}') |"
  done
  echo "$row"
done
