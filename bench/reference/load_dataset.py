"""The Python side of `dpag bench`'s dataset-load measurement: loads a Push-T zarr store into memory the way
diffusion_policy's ReplayBuffer.copy_from_path does for the image dataset (data/img, data/state, data/action and
meta/episode_ends as numpy arrays) and prints one JSON line: wall time, resident size before and at the peak, data bytes.

Usage: /usr/bin/python3 bench/reference/load_dataset.py STORE   (needs zarr 2 and numcodecs: Debian's python3-zarr)
"""
import json
import os
import sys
import time

import zarr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procmem import resident_bytes  # noqa: E402


def main():
    store = sys.argv[1]
    before = resident_bytes("VmRSS")
    start = time.perf_counter()
    root = zarr.open(store, mode="r")
    arrays = {key: root["data"][key][:] for key in ("img", "state", "action")}
    episode_ends = root["meta"]["episode_ends"][:]
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "before": before, "peak": resident_bytes("VmHWM"),
                      "data_bytes": sum(a.nbytes for a in arrays.values()), "frames": int(episode_ends[-1]),
                      "zarr": zarr.__version__}))


if __name__ == "__main__":
    main()
