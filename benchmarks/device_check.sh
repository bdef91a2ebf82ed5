#!/usr/bin/env bash
# The course's GPU check, in one call on a machine with a CUDA GPU:
#   1. what the machine has (nvidia-smi, PyTorch and the GPU it sees);
#   2. benchmarks/run.py --skip-tests: both networks over three seeds and every chapter,
#      executed top to bottom on CUDA (their claims' asserts included);
#   3. the CNN with a few other GPU recipes, seed 0, so that a recipe that misses the
#      target can be replaced without another call.
# Results land in $OUT (or benchmarks/device-check/ where OUT is unset): results.json and
# device-check.log. Where the machine has PyTorch but no Jupyter and no package registry,
# fetch the wheels here first (bash benchmarks/fetch_device_wheels.sh) and carry .whl/;
# they are installed into /tmp/site. DLCV_DEVICE=cpu runs the same steps on a CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-benchmarks/device-check}"
mkdir -p "$out"
log="$out/device-check.log"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
python="${PYTHON:-python3}"
{
  if [ -d .whl ] && ! "$python" -c "import nbclient, ipykernel, ipywidgets, myst_nb" 2>/dev/null; then
    "$python" -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl || { echo "installing .whl/ failed"; exit 1; }
    export PYTHONPATH="$PYTHONPATH:/tmp/site"
  fi
  echo "== the machine"
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || echo "(no nvidia-smi)"
  "$python" -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__,
'cuda', torch.version.cuda, 'device', torch.cuda.get_device_name() if torch.cuda.is_available() else None)"
  nproc
  echo "== benchmarks/run.py --skip-tests"
  "$python" benchmarks/run.py --skip-tests --output "$out/results.json"
  echo "rc=$?"
  echo "== other GPU recipes for the CNN, seed 0 (epochs batch lr)"
  for recipe in "2 512 2e-2" "3 1024 2e-2" "4 2048 4e-2"; do
    read -r epochs batch lr <<<"$recipe"
    "$python" benchmarks/train_mnist.py --model cnn --seed 0 --epochs "$epochs" --batch-size "$batch" --lr "$lr" \
      | tail -2 | tr '\n' ' '
    echo
  done
} 2>&1 | tee "$log"
