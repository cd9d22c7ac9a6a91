#!/usr/bin/env bash
# Builds .venv-bench: explainimg plus the peers that benchmarks/bench_gradcam.py and
# bench_blackbox.py compare with.
# xplique 2.0.2 pins tensorflow[and-cuda]<=2.20, which would replace this TensorFlow with a CUDA
# build, so xplique and the modules it imports are installed with --no-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-bench
.venv-bench/bin/pip install -e ".[bench]"
.venv-bench/bin/pip install --no-deps xplique==2.0.2 tensorflow-probability==0.25.0 \
    tf-keras==2.21.0 dm-tree opencv-python-headless decorator cloudpickle deprecated
.venv-bench/bin/pip install einops scikit-learn scikit-image
