#!/usr/bin/env python
"""Prepare lfw faces as an aligned shard: a thin wrapper over `faceid-lab prepare lfw`.

    python data_scripts/prepare_lfw.py --help
"""

import sys

from faceid_lab.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["prepare", "lfw", *sys.argv[1:]]))
