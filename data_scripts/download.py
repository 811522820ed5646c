#!/usr/bin/env python
"""Download CelebA (torchvision + gdown) or LFW (scikit-learn) for Colab users, then prepare it.

    python data_scripts/download.py celeba --root ~/data
    python data_scripts/download.py lfw --root ~/data

Each dataset's licence is printed first. When Google Drive refuses CelebA (its daily quota),
the message says exactly which files to download by hand and where to put them.
"""

import argparse

from faceid_lab.data.real import DataError, download_celeba, download_lfw

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", choices=["celeba", "lfw"])
    p.add_argument("--root", required=True)
    a = p.parse_args()
    try:
        folder = (download_celeba if a.dataset == "celeba" else download_lfw)(a.root)
    except DataError as e:
        raise SystemExit(str(e)) from None
    print(f"ready: {folder}\nnext: faceid-lab prepare {a.dataset} --root {folder} --out <shard folder>")
