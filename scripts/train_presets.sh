#!/usr/bin/env bash
# Train the shipped photo presets (vae_apps/denoising/presets.py lists the commands).
# Usage: scripts/train_presets.sh PHOTOS WORK [grey|rgb ...]
#   PHOTOS  the folder scripts/fetch_photos.sh filled (its train/ part is used; never heldout/)
#   WORK    trained files and resumable backups: run again to go on after an interruption
# Each preset trains on the photos bundled with scikit-image, scikit-learn and matplotlib
# plus PHOTOS/train, against the "photo" noise mix; the weights are then written, without
# the optimizer's state, to vae_apps/denoising/weights/; last, scripts/calibrate_presets.py
# fits both presets' uncertainty weights on the same photos.
set -euo pipefail
photos=${1:?usage: scripts/train_presets.sh PHOTOS WORK [grey|rgb ...]}
work=${2:?usage: scripts/train_presets.sh PHOTOS WORK [grey|rgb ...]}
shift 2
mkdir -p "$work"
for which in "${@:-grey rgb}"; do
  for kind in $which; do
    name=photo-$kind
    # one line per step, run in order (a later step trains the earlier one's file further)
    mapfile -t steps < <(python -c "from vae_apps.denoising.presets import PRESETS
print('\n'.join(PRESETS['$name'].commands))")
    for command in "${steps[@]}"; do
      command=${command//PHOTOS/$photos}
      command=${command//WORK/$work}
      echo "$command"
      $command
    done
    case "$command" in *vae_apps/denoising/weights/*) continue ;; esac  # written in place
    python -c "import sys; from vae_apps.denoising.presets import PRESETS, export_preset
size = export_preset(sys.argv[1], 'vae_apps/denoising/weights/' + PRESETS['$name'].file)
print(f'$name: {size / 2**20:.1f} MB')" "$work/${name/-/_}.keras"
  done
done
# The uncertainty weights of both presets, fitted on the same training photos.
python "$(dirname "$0")/calibrate_presets.py" "$photos"
