#!/usr/bin/env bash
# Installs every Debian package nascent needs to build, test and run. Idempotent: packages that
# are already installed are skipped, and apt-get is not called at all when nothing is missing.
#   scripts/install-deps.sh              what the build, the tests and the benchmarks need
#   scripts/install-deps.sh --sanitize   also clang, its sanitizer runtimes and libFuzzer
#                                        (scripts/sanitize.sh, bench/fuzz.sh)
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config
  # libraries
  libtorch-dev            # LibTorch 1.13 (CPU): tensors, autograd, nn
  libopenblas0-openmp     # an optimised BLAS for LibTorch's linear layers (Debian's alternatives make it the
                          # system libblas): transformer and MLP trials 7.8x faster than on the reference BLAS
  libsqlite3-dev          # the experiment store
  nlohmann-json3-dev      # JSON
  libyaml-cpp-dev         # YAML configs
  libcli11-dev            # command-line parsing
  libspdlog-dev libfmt-dev  # logging and formatting
  zlib1g-dev              # gzip IDX files
  libonnx-dev libprotobuf-dev  # ONNX export: the ModelProto classes and onnx::checker
  libopencv-imgcodecs-dev libopencv-imgproc-dev  # image folders: PNG, JPEG, BMP, TIFF decoding and resizing
  libdcmtk-dev            # DICOM files (DCMTK), with its JPEG, JPEG-LS and RLE decoders
  libcpp-httplib-dev      # `nascent serve`: the live dashboard's HTTP server
  libjs-chart.js          # the dashboard's charts (Chart.js, served from /usr/share/javascript)
  libopenmpi-dev openmpi-bin  # `mpirun -np N nascent search ...`
  libgtest-dev            # tests
  libopencv-dnn-dev       # latency.runtime onnx-opencv, and tests: exported ONNX models in an independent runtime
  libbenchmark-dev        # benchmarks
  chromium-headless-shell # tests: a real browser renders report.html and the dashboard
  # data
  dataset-fashion-mnist   # Fashion-MNIST IDX files under /usr/share/datasets/fashion-mnist
  r-cran-palmerpenguins   # penguins.csv (tabular example and CSV reader tests)
  fortunes                # plain-text fortune cookies (text example and text reader tests)
)
if [ "${1:-}" = "--sanitize" ]; then
  packages+=(
    clang-14 libclang-rt-14-dev  # AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer
    llvm-14                      # llvm-symbolizer: file and line in sanitizer reports
  )
fi

missing=()
for p in "${packages[@]}"; do
  [[ "$p" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
