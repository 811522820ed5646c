#!/usr/bin/env bash
# Apply each of five deliberate breaks of FaceID-GAN's step or loop in turn, run the game's tests,
# and print which tests fail (every break must fail at least one); the file is restored after each.
#   dev/break_the_game.sh
set -u
cd "$(dirname "$0")/.."
f=faceid_lab/train/faceidgan.py
py=${PYTHON:-.venv/bin/python}
breaks=(
  "2N labels never used|s/labels_fake = two_n_labels(labels, synthesized, p.num_identities) if cfg.classifier == \"2n\" else labels/labels_fake = labels/"
  "identity-loss sign flipped|s/+ cfg.id_weight \* id_err/- cfg.id_weight * id_err/"
  "D-loss sign flipped|s/update(r_real - p.balance.k \* r_fake_d/update(r_real + p.balance.k * r_fake_d/"
  "C's synthesized-weight schedule ignored|s/synth_weight_at(step, cfg), autocast/cfg.synth_weight_start, autocast/"
  "pose loss dropped|s/+ cfg.pose_weight \* pose_err/+ 0 * pose_err/"
)
cp "$f" /tmp/faceidgan.py.orig
status=0
for b in "${breaks[@]}"; do
  name=${b%%|*}; edit=${b#*|}
  sed -i "$edit" "$f"
  if cmp -s "$f" /tmp/faceidgan.py.orig; then echo "$name: the edit did not apply"; status=1; continue; fi
  failed=$(FACEID_LAB_PROFILE=ci FACEID_LAB_HEADLESS=1 $py -m pytest -q -p no:cacheprovider tests/test_game_step.py \
           tests/test_faceidgan.py 2>&1 | grep '^FAILED' | sed 's/^FAILED //; s/ - .*//')
  cp /tmp/faceidgan.py.orig "$f"
  if [ -z "$failed" ]; then echo "$name: NO test fails"; status=1; else
    echo "$name: $(echo "$failed" | wc -l) failing, e.g."; echo "$failed" | head -n 3 | sed 's/^/    /'; fi
done
exit $status
