"""Where an example writes its pictures: the folder given as the first argument, or examples_out/<name>."""

import sys
from pathlib import Path


def out_dir(name: str) -> Path:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("examples_out") / name
    out.mkdir(parents=True, exist_ok=True)
    print(f"(pictures go to {out}/)")
    return out
