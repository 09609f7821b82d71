#!/usr/bin/env bash
# One call on a lent GPU machine (see DEVELOPERS.md), one process on the GPU at a time (nine at once ran each
# about six times slower): the accelerator-only entry, then the other zoo entries with `--device cuda` (NAMES
# picks which), then, with SWEEP=1, the DCGAN recipes of bench/gan_sweep.txt side by side (compared only with each
# other) in what is left of BUDGET. Brings back the checkpoints, each run's time and a log. The machine has no
# network: the MNIST files, the rendered Shakespeare corpus and the houses data package travel in .gpu/
# (`make gpu-bundle`); the fonts are in the tree (training/fonts/).
set -u
export PYTHONUNBUFFERED=1 DLFS_ZOO_DATA=/tmp/data
BUDGET=${BUDGET:-520}  # seconds for the whole script; nothing starts once it is spent
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD
mkdir -p /tmp/data/MNIST/raw /tmp/data/shakespeare /tmp/gpu
for f in .gpu/*.gz; do gunzip -c "$f" > "/tmp/data/MNIST/raw/$(basename "$f" .gz)"; done
cp .gpu/shakespeare/*.json /tmp/data/shakespeare/  # the corpus rendered here (training.data._speeches)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/device.txt"
python3 -c "import torch, platform; print('torch', torch.__version__, 'python', platform.python_version())" | tee -a "$OUT/device.txt"
python3 -c "import zoo, training.__main__, huggingface_hub as h; print('imports ok, huggingface_hub', h.__version__)" 2>&1 | tee -a "$OUT/device.txt"
log() { tr '\r' '\n' | grep --line-buffered -v 'batch/s\|it/s\|s/it' | sed -u "s/^/[$1] /" >> "$OUT/log.txt"; }
run() {  # name, extra args: one whole training process, timed
  local name=$1; shift
  local left=$((BUDGET - SECONDS))
  if [ "$left" -lt 25 ]; then echo "[$name] skipped: budget spent" >> "$OUT/log.txt"; return; fi
  local t0=$SECONDS
  timeout "$left" python3 -m training train "$name" --device cuda --out /tmp/gpu "$@" 2>&1 | log "$name"
  echo "{\"name\": \"$name\", \"process_seconds\": $((SECONDS - t0)), \"status\": ${PIPESTATUS[0]}}" >> "$OUT/runs.jsonl"
}
# the accelerator-only entry first (its checkpoint comes back on its own, whatever follows), then the rest
ALL=$(python3 -c "from zoo.catalog import ENTRIES as E; print(*sorted(E, key=lambda n: n != 'char-transformer-large'))")
for name in ${NAMES:-$ALL}; do
  run "$name" --skip-robustness
  [ "$name" = char-transformer-large ] && tar cf "$OUT/large.tar" -C /tmp/gpu char-transformer-large 2>/dev/null
done
if [ "${SWEEP:-0}" = 1 ] && [ $((BUDGET - SECONDS)) -gt 60 ]; then
  while read -r name spec; do
    timeout $((BUDGET - SECONDS - 10)) python3 -m bench.gan_sweep "$name" "$spec" "$OUT/gan_sweep.jsonl" 2>&1 | log "gan $name" &
  done < bench/gan_sweep.txt
  wait
fi
cd /tmp/gpu; tar cf "$OUT/gpu-a.tar" house-* mnist-* 2>/dev/null; tar cf "$OUT/gpu-b.tar" char-lstm* char-gru* char-transformer autoencoder-* vae-* dcgan-* 2>/dev/null
ls -la "$OUT"; tail -n 30 "$OUT/log.txt"
