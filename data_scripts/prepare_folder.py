#!/usr/bin/env python
"""Prepare folder faces as an aligned shard: a thin wrapper over `faceid-lab prepare folder`.

    python data_scripts/prepare_folder.py --help
"""

import sys

from faceid_lab.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["prepare", "folder", *sys.argv[1:]]))
