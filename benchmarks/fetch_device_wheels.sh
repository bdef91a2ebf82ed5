#!/usr/bin/env bash
# Download the wheels that benchmarks/device_check.sh installs on a GPU machine with no
# package registry (see benchmarks/device-wheels.txt). Run here, from the course folder:
#   bash benchmarks/fetch_device_wheels.sh [python-version-of-that-machine] [folder]
# The defaults (3.12, .whl) suit this workplace's GPU machines; .whl/ is git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-3.12}"
folder="${2:-.whl}"
platforms=()
for tag in manylinux_2_28 manylinux_2_27 manylinux_2_17 manylinux2014 manylinux1; do
  platforms+=(--platform "${tag}_x86_64")
done
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version "$version" \
  --implementation cp "${platforms[@]}" --platform any -d "$folder" -r benchmarks/device-wheels.txt
ls "$folder" | wc -l | xargs echo "wheels in $folder:"
du -sh "$folder"
