#!/usr/bin/env bash
# One call on a lent GPU machine (see DEVELOPERS.md): train the accelerator-only entry, then every zoo entry
# with `--device cuda`, and bring back the checkpoints and each run's time. The machine has no network: the
# MNIST files, the rendered Shakespeare corpus and the houses data package travel in .gpu/ (`make gpu-bundle`).
set -u
export PYTHONUNBUFFERED=1 DLFS_ZOO_DATA=/tmp/data
BUDGET=${BUDGET:-520}  # seconds for the whole script; the per-entry runs stop starting when it is spent
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD
mkdir -p /tmp/data/MNIST/raw /tmp/data/shakespeare /tmp/gpu
for f in .gpu/*.gz; do gunzip -c "$f" > "/tmp/data/MNIST/raw/$(basename "$f" .gz)"; done
cp .gpu/shakespeare/*.json /tmp/data/shakespeare/  # the corpus rendered here (training.data._speeches)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/device.txt"
python3 -c "import torch, platform; print('torch', torch.__version__, 'python', platform.python_version())" | tee -a "$OUT/device.txt"
python3 -c "import zoo, training.__main__, huggingface_hub as h; print('imports ok, huggingface_hub', h.__version__)" 2>&1 | tee -a "$OUT/device.txt"
log() { tr '\r' '\n' | grep -v 'batch/s\|it/s\|s/it' | tee -a "$OUT/log.txt"; }
run() {  # name, extra args: one whole training process, timed
  local name=$1; shift
  local left=$((BUDGET - SECONDS))
  if [ "$left" -lt 25 ]; then echo "$name skipped: budget spent" | tee -a "$OUT/log.txt"; return; fi
  local t0=$SECONDS
  timeout "$left" python3 -m training train "$name" --device cuda --out /tmp/gpu "$@" 2>&1 | log
  echo "{\"name\": \"$name\", \"process_seconds\": $((SECONDS - t0)), \"status\": ${PIPESTATUS[0]}}" >> "$OUT/runs.jsonl"
}
run char-transformer-large
tar cf "$OUT/large.tar" -C /tmp/gpu char-transformer-large 2>/dev/null
# mnist-convnet-book first: its epoch is the 1-GPU row of the scaling table; NAMES picks a subset
ALL=$(python3 -c "from zoo.catalog import ENTRIES; print(*[n for n in ENTRIES if n not in ('char-transformer-large', 'mnist-convnet-book')])")
for name in ${NAMES:-mnist-convnet-book $ALL}; do
  run "$name" --skip-robustness
done
# two archives: each file that comes back from the machine must stay under 16 MB
cd /tmp/gpu; tar cf "$OUT/gpu-a.tar" house-* mnist-* 2>/dev/null; tar cf "$OUT/gpu-b.tar" char-lstm* char-gru* char-transformer autoencoder-* vae-* dcgan-* 2>/dev/null
ls -la "$OUT"
