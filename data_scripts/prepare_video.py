#!/usr/bin/env python
"""Prepare video faces as an aligned shard: a thin wrapper over `faceid-lab prepare video`.

    python data_scripts/prepare_video.py --help
"""

import sys

from faceid_lab.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["prepare", "video", *sys.argv[1:]]))
