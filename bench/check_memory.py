"""Peak memory of `ghl-contract check`: a large capture, hostile inputs, the worst inputs allowed.

Each case runs `check` (default limits) in a subprocess and reports its peak memory: the resident
peak of the largest process (the check process or one of its workers, from their own rusage)
and the proportional set size of the whole process tree, sampled every 0.1 s (memory the workers
share with the parent counted once). The bound of each case follows from the limits
(settings.LIMITS) and is printed with the measure: parsing costs at most some 100 bytes per
bracket, comma and colon allowed (--max-values, 1,000,000: 100 MB), and what is read at once
(a line, a document) at most 11 times its size: read, joined, parsed, and the errors
jsonschema-rs builds for a payload that breaks the contract, which copy the values they are
about (a long string some 7 times). The baseline is a `check` of one payload.

- a large NDJSON capture of documented responses (1 GB by default): under 200 MB whatever its
  size, as lines are streamed and at most two 1 MiB chunks per worker are in flight;
- over the limits, a 2 GiB .json and a 2 GiB one-line .ndjson (sparse files) and `check - <
  /dev/zero`: refused, or stopped having read the line limit: baseline + 3 x 16 MiB;
- the worst inputs within the limits: a line of empty arrays up to --max-values, a 16 MiB line
  and a 32 MiB .json document each holding one long string where an object belongs: baseline +
  100 MB + 11 x their size (with the default limits, about 480 MB at most).

    python bench/check_memory.py [--size 1G] [--jobs N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payloads import variants  # a sibling module of this script

from ghl_contract.settings import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, MAX_VALUES

MB = 1 << 20
CAPTURE_BOUND_MB = 200
LINE_LIMIT = MAX_LINE_BYTES.default
DOCUMENT_LIMIT = MAX_DOCUMENT_BYTES.default
PARSE_MB = MAX_VALUES.default * 100 / MB  # parsing: at most some 100 bytes a bracket or comma
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}

# Runs `check` with the given arguments and prints, on the last line of its standard error, the
# resident peak of this process and of its largest child (its workers), in kB.
_RUNNER = """
import json, resource, sys
from ghl_contract.cli import run
code = run(sys.argv[1:], sys.stdout, sys.stderr)
peaks = [resource.getrusage(who).ru_maxrss
         for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(json.dumps(peaks), file=sys.stderr)
sys.exit(code)
"""


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


@dataclass
class Measure:
    code: int
    seconds: float
    largest_mb: float  # resident peak of the largest process
    tree_mb: float  # sampled proportional set size of the process tree
    summary: dict[str, int]

    @property
    def peak_mb(self) -> float:
        return max(self.largest_mb, self.tree_mb)


def measure(argv: Sequence[str], stdin: Path | None = None) -> Measure:
    """`check argv` in a subprocess, with its peak memory."""
    start = time.perf_counter()
    with (stdin.open("rb") if stdin else open("/dev/null", "rb")) as given:  # noqa: PTH123
        child = subprocess.Popen([sys.executable, "-c", _RUNNER, "check", *argv, "--format",
                                  "json"], stdin=given, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        peak_pss = 0
        while child.poll() is None:
            peak_pss = max(peak_pss, sum(_pss_kb(pid) for pid in _tree(child.pid)))
            time.sleep(0.1)
        out, err = child.communicate()
    seconds = time.perf_counter() - start
    peaks = json.loads(err.decode().strip().splitlines()[-1])
    summary = json.loads(out)["summary"] if out else {}
    return Measure(child.returncode, seconds, max(peaks) / 1024, peak_pss / 1024, summary)


def report(name: str, result: Measure, bound_mb: float, expected_code: int) -> bool:
    meets = result.peak_mb < bound_mb and result.code == expected_code
    print(f"{name:<46} exit {result.code}  {result.seconds:6.1f} s  largest process "
          f"{result.largest_mb:7.1f} MB  tree {result.tree_mb:7.1f} MB  bound {bound_mb:7.1f} MB "
          f"({result.peak_mb / bound_mb:.2f} of it): {'meets' if meets else 'MISSES'}")
    return meets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=size_argument, default=1 << 30,
                        help="size of the NDJSON capture (default 1G; e.g. 200M)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="passed to check --jobs for the capture (default: check's choice)")
    parser.add_argument("--dir", default=None, help="where to write the files (default: $TMPDIR)")
    args = parser.parse_args()

    held = []
    with tempfile.TemporaryDirectory(prefix="ghl-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        small = folder / "one.ndjson"
        write_ndjson(small, 1)
        baseline = measure([str(small)])
        print(f"baseline (check of one payload): {baseline.peak_mb:.1f} MB")

        capture = folder / "responses.ndjson"
        start = time.perf_counter()
        count = write_ndjson(capture, args.size)
        size = capture.stat().st_size
        print(f"wrote {size / 1e6:,.0f} MB, {count:,} payloads, in "
              f"{time.perf_counter() - start:.1f} s")
        jobs = ["--jobs", str(args.jobs)] if args.jobs is not None else []
        result = measure([str(capture), *jobs])
        print(f"  {result.summary.get('checked', 0) / result.seconds:,.0f} payloads/s, "
              f"{result.peak_mb / (size / MB) * 100:.2f}% of the input")
        held.append(report(f"NDJSON capture, {size / 1e9:.1f} GB", result, CAPTURE_BOUND_MB, 0))
        capture.unlink()

        hostile_bound = baseline.peak_mb + 3 * LINE_LIMIT / MB
        for suffix in (".json", ".ndjson"):
            huge = folder / f"huge{suffix}"
            with huge.open("wb") as out:
                out.truncate(2 << 30)  # sparse: 2 GiB of NUL bytes, no disk space
            held.append(report(f"2 GiB {suffix} (one line of NUL bytes)", measure([str(huge)]),
                               hostile_bound, 2))
            huge.unlink()
        held.append(report("check - < /dev/zero", measure(["-"], stdin=Path("/dev/zero")),
                           hostile_bound, 2))

        worst = folder / "worst.ndjson"
        worst.write_bytes(b"[" + b"[]," * (MAX_VALUES.default // 2 - 1) + b"[]]\n")
        held.append(report("a line of empty arrays up to --max-values", measure([str(worst)]),
                           baseline.peak_mb + PARSE_MB + 3 * worst.stat().st_size / MB, 1))
        worst.unlink()
        for suffix, limit in ((".ndjson", LINE_LIMIT), (".json", DOCUMENT_LIMIT)):
            long = folder / f"long{suffix}"
            long.write_bytes(b'{"invoice": "' + b"x" * (limit - 20) + b'"}\n')
            held.append(report(f"a {suffix} of one {limit // MB} MiB string (at the limit)",
                               measure([str(long)]),
                               baseline.peak_mb + PARSE_MB + 11 * limit / MB, 1))
            long.unlink()
    return 0 if all(held) else 1


if __name__ == "__main__":
    sys.exit(main())
