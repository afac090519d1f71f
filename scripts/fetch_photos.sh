#!/usr/bin/env bash
# The extra photos the shipped denoisers may train on, from two Debian packages:
# opencv-doc (examples/data: real photos) and lomiri-wallpapers-20.04 (four large photos).
# Usage: scripts/fetch_photos.sh DEST
#   DEST/train/    photos for training (never the held-out ones)
#   DEST/heldout/  baboon, fruits, smarties, squirrel_cls, building, leuvenA: evaluation only
# Needs apt-get and dpkg (Debian/Ubuntu) and the package registry; never run at test time.
set -euo pipefail
dest=${1:?usage: scripts/fetch_photos.sh DEST}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download opencv-doc lomiri-wallpapers-20.04 >/dev/null)
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/root"; done
mkdir -p "$dest/train" "$dest/heldout"
heldout=" baboon fruits smarties squirrel_cls building leuvenA "
# Photographs only: drawings, logos, charts, calibration boards, text and synthetic
# test patterns are left out (they are not what people denoise).
not_photos=" LinuxLogo WindowsLogo opencv-logo opencv-logo-white chessboard board gradient
  imageTextN imageTextR notes sudoku text_defocus text_motion ellipses detect_blob digits ml
  mask pic1 pic2 pic3 pic4 pic5 pic6 cards box box_in_scene templ tmpl alphabet
  Blender_Suzanne1 Blender_Suzanne2 starry_night aloeGT HappyFish graf1 graf3 licenseplate_motion "
n_train=0 n_held=0
for f in "$work"/root/usr/share/doc/opencv-doc/examples/data/*.jpg \
         "$work"/root/usr/share/doc/opencv-doc/examples/data/*.png; do
  name=$(basename "${f%.*}")
  case " $(echo $not_photos) " in *" $name "*) continue ;; esac  # echo folds the newlines
  case "$name" in left[0-9]*|right[0-9]*) continue ;; esac  # calibration boards
  if [[ "$heldout" == *" $name "* ]]; then cp "$f" "$dest/heldout/"; n_held=$((n_held + 1))
  else cp "$f" "$dest/train/"; n_train=$((n_train + 1)); fi
done
for f in "$work"/root/usr/share/backgrounds/*.jpg; do cp "$f" "$dest/train/"; n_train=$((n_train + 1)); done
echo "$n_train training photos in $dest/train, $n_held held-out photos in $dest/heldout"
