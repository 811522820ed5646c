#!/usr/bin/env bash
# Train a profile's checkpoints for FaceID-GAN's comparison on one GPU, in parallel processes, then
# evaluate them: the judge, P, the identity network and the three instruments first, then every
# variant x seed of FaceID-GAN, then `evaluate faceidgan` and `evaluate instruments` as JSON.
# float32 (FACEID_LAB_AMP=off), so the models are the profile's CPU models, trained faster.
#
#   dev/train_profile_on_gpu.sh PROFILE OUTDIR DEADLINE_S "SEEDS"
#
# Extra seeds that are not finished DEADLINE_S seconds after the start are dropped (the evaluation
# then uses seed 0 alone). Finished checkpoints are packed into OUTDIR/pack/ckpt.tgz.* (12 MiB parts).
# Measured on one H200 (16 cores), cpu profile: stage A took 131 s (judge 10 s, P 12 s and each instrument
# about 10 s of training; the rest is rendering on the CPU); 18 FaceID-GAN runs at once (6 variants x 3
# seeds) had not finished seed 0 after 440 s: every process renders its own training people on the
# CPU, so give it fewer runs at once (SEEDS="0") or more time.
set -u
device=${DEVICE:-cuda}
profile=${1:-cpu}; out=${2:-/tmp/gpu_out}; deadline=${3:-380}; seeds=${4:-0}
mkdir -p "$out/pack" "$out/logs"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 FACEID_LAB_PARALLEL_TRAINING=1 FACEID_LAB_AMP=off OMP_NUM_THREADS=2
export FACEID_LAB_HOME=${FACEID_LAB_HOME:-$PWD/.gpu_home}
began=$(date +%s)
since() { echo $(( $(date +%s) - began )); }
fl() { python3 -m faceid_lab "$@"; }

echo "[$(since) s] stage A: judge, P, identity network, instruments"
fl train judge --profile "$profile" --device "$device" > "$out/logs/judge.log" 2>&1 &
fl train pose --profile "$profile" --device "$device" > "$out/logs/pose.log" 2>&1 &
fl train instruments --profile "$profile" --device "$device" > "$out/logs/instruments.log" 2>&1 &
python3 -c "from faceid_lab.train.classifier import load_identity_net as f; f('$profile', device='$device', progress=False)" \
  > "$out/logs/identity.log" 2>&1 &
wait
echo "[$(since) s] stage B: FaceID-GAN variants x seeds ($seeds)"
first=(); extra=()
for v in none frozen real n 2n 2n-nosym; do
  for s in $seeds; do
    fl train faceidgan --profile "$profile" --variants "$v" --seed "$s" --device "$device" > "$out/logs/faceidgan_${v}_$s.log" 2>&1 &
    if [ "$s" = 0 ]; then first+=($!); else extra+=($!); fi
  done
done
for p in "${first[@]}"; do wait "$p"; done
echo "[$(since) s] seed 0 done"
use=0
if [ ${#extra[@]} -gt 0 ]; then
  while [ "$(since)" -lt "$deadline" ] && kill -0 "${extra[@]}" 2>/dev/null; do sleep 2; done
  if kill -0 "${extra[@]}" 2>/dev/null; then kill "${extra[@]}" 2>/dev/null; echo "[$(since) s] extra seeds dropped"
  else use=$seeds; fi
fi
echo "[$(since) s] stage C: evaluate (seeds $use)"
fl evaluate faceidgan --profile "$profile" --classifier every --seed $use --device "$device" > "$out/eval_faceidgan_$profile.json" 2> "$out/logs/eval.log"
fl evaluate instruments --profile "$profile" --device "$device" > "$out/eval_instruments_$profile.json" 2>> "$out/logs/eval.log"
echo "[$(since) s] pack"
ck=$FACEID_LAB_HOME/checkpoints
ls -la "$ck" > "$out/logs/checkpoints.txt"
( cd "$ck" && ls judge_"$profile".pt pose_"$profile".pt identity_"$profile".pt posereader_"$profile".pt \
    paramreader_"$profile".pt segmenter_"$profile".pt 2>/dev/null
  # snapshots: only N's and 2N's, which notebook 07 follows over training (without them it stops with a
  # CheckpointError, as the first H200 pack did)
  for s in 0; do for f in faceidgan_*_"$profile"_*.pt; do
    case $f in faceidgan_n_*_step*|faceidgan_2n_*_step*) echo "$f";; *_step*) ;; *) echo "$f";; esac; done; done ) \
  > "$out/pack/list.txt"
# only seed-0 runs: their config says seed 0
python3 - "$ck" "$out/pack/list.txt" <<'PY'
import sys, torch, pathlib
ck, lst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
keep = [n for n in lst.read_text().split() if not n.startswith("faceidgan_")
        or torch.load(ck / n, weights_only=True, map_location="cpu")["config"].get("seed") == 0]
lst.write_text("\n".join(keep) + "\n")
PY
tar -C "$ck" -czf - -T "$out/pack/list.txt" | split -b 12M - "$out/pack/ckpt.tgz."
ls -la "$out/pack"
echo "[$(since) s] done"
