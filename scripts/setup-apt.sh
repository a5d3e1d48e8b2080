#!/usr/bin/env bash
# Installs the Debian packages qrobust builds against and tests with. Idempotent; needs root (or sudo).
#   libopencv-dev          OpenCV for dec-opencv / rs-opencv-* (bound by our own addon)
#   libjpeg-dev            libjpeg-turbo for the exact reference decoder (usually preinstalled)
#   libopenblas-dev libdnnl-dev   float GEMM / convolution backends
#   ffmpeg libjpeg-turbo-progs    dec-ffmpeg and the djpeg oracle
#   g++-aarch64-linux-gnu qemu-user   the aarch64 cross build and its tests
#   python3-onnx python3-torch python3-torchvision python3-pil python3-skimage python3-opencv
#   python3-scipy python3-wand   ImageNet-C reference generators (scipy.ndimage, ImageMagick motion blur)
#                          fixture generators / oracles, used through /usr/bin/python3 (never pip)
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
pkgs=(cmake ninja-build g++ make pkg-config libjpeg-dev libopencv-dev libopenblas-dev libdnnl-dev ffmpeg
      libjpeg-turbo-progs g++-aarch64-linux-gnu qemu-user python3 python3-numpy python3-onnx python3-torch
      python3-torchvision python3-pil python3-skimage python3-opencv python3-scipy python3-wand)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-apt: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup-apt: all ${#pkgs[@]} packages present" >&2
