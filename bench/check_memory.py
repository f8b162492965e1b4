"""Peak memory of `ghl-contract check` over a large NDJSON file (1 GB by default).

Writes the file in a temporary directory (streamed: documented 200 responses with small
variations, repeated), runs `check` on it in a subprocess, and reports the peak resident memory:
of the largest process (ru_maxrss of the children, which covers the check process and its
workers) and of the whole process tree (proportional set size, sampled every 0.1 s, so memory
the workers share with the parent is counted once). The target is under 200 MB. The file is
removed afterwards.

    python bench/check_memory.py [--size 1G] [--jobs N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from itertools import cycle
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payloads import variants  # a sibling module of this script

TARGET_MB = 200
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def size_argument(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*", text.upper())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 1G, 200M or 5000000")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def write_ndjson(path: Path, size: int) -> int:
    """Stream about `size` bytes of NDJSON to `path`; return how many payloads were written."""
    written = count = 0
    with path.open("wb", buffering=1 << 20) as out:
        for line in cycle(list(variants(1000))):
            if written >= size:
                break
            out.write(line)
            written += len(line)
            count += 1
    return count


def _tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree.extend(frontier)
    return tree


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=size_argument, default=1 << 30,
                        help="size of the NDJSON file (default 1G; e.g. 200M)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="passed to check --jobs (default: check's own choice)")
    parser.add_argument("--dir", default=None, help="where to write the file (default: $TMPDIR)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ghl-bench-", dir=args.dir) as tmp:
        path = Path(tmp) / "responses.ndjson"
        start = time.perf_counter()
        count = write_ndjson(path, args.size)
        size = path.stat().st_size
        print(f"wrote {size / 1e6:,.0f} MB, {count:,} payloads, in "
              f"{time.perf_counter() - start:.1f} s")

        argv = ["check", str(path), "--format", "json"]
        if args.jobs is not None:
            argv += ["--jobs", str(args.jobs)]
        code = ("import sys; from ghl_contract.cli import main; "
                f"sys.argv = ['ghl-contract', *{argv!r}]; main()")
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        peak_pss = 0
        while child.poll() is None:
            peak_pss = max(peak_pss, sum(_pss_kb(pid) for pid in _tree(child.pid)))
            time.sleep(0.1)
        out = child.stdout.read() if child.stdout else b""
        elapsed = time.perf_counter() - start
        largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kB on Linux

    summary = json.loads(out)["summary"] if out else {}
    print(f"check exited {child.returncode} in {elapsed:.1f} s "
          f"({summary.get('checked', 0) / elapsed:,.0f} payloads/s): {summary}")
    print(f"peak RSS of the largest process:         {largest / 1024:7.1f} MB")
    print(f"peak PSS of the process tree (sampled):  {peak_pss / 1024:7.1f} MB")
    worst = max(largest, peak_pss) / 1024
    verdict = "meets" if worst < TARGET_MB else "MISSES"
    print(f"target under {TARGET_MB} MB: {verdict} ({worst:.1f} MB, "
          f"{worst / (size / 2**20) * 100:.2f}% of the input)")
    return 0 if child.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
