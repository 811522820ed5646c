#!/usr/bin/env python
"""Prepare celeba faces as an aligned shard: a thin wrapper over `faceid-lab prepare celeba`.

    python data_scripts/prepare_celeba.py --help
"""

import sys

from faceid_lab.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["prepare", "celeba", *sys.argv[1:]]))
