"""How `ghl-contract run` grows with --max-examples: its wall time per size, and the cost per case.

The same live target as bench/suite_vs_schemathesis.py (one `ghl-contract mock` process, limits
raised), the same run (live, writes allowed, recorded to count its distinct requests). For each
size, the median of `--repeat` runs (sizes interleaved, seeds 1, 2...): wall time, requests,
distinct requests. Then the cost of one more case between consecutive sizes (seconds per
additional distinct request), the least-squares line wall = fixed + per-case x distinct over all
sizes, and how far each size's median lies from that line: time grows linearly when the marginal
costs agree and every size lies near the line.

    python bench/suite_scaling.py [--sizes 25,100,250,500,1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from suite_vs_schemathesis import Sample, median, mock_process, ours


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """The least-squares line through (distinct, wall): (fixed seconds, seconds per case)."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / \
        sum((x - mean_x) ** 2 for x in xs)
    return mean_y - slope * mean_x, slope


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25,100,250,500,1000",
                        help="--max-examples values, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size")
    args = parser.parse_args()
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    runs: dict[int, list[Sample]] = {size: [] for size in sizes}
    work = Path(tempfile.mkdtemp(prefix="ghl-scaling-"))
    try:
        with mock_process() as live:
            ours(live, work, "warm-up", sizes[0], 0)
            for index in range(max(1, args.repeat)):
                for size in sizes if index % 2 == 0 else reversed(sizes):
                    runs[size].append(ours(live, work, f"ours-{size}-{index}", size, index + 1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {size: median(samples) for size, samples in runs.items()}
    fixed, per_case = fit([(m.distinct, m.wall) for m in medians.values()])
    print(f"ghl-contract run against one `ghl-contract mock` process, medians of {args.repeat} "
          "runs per size.")
    print(f"{'--max-examples':>14} {'requests':>8} {'distinct':>8} {'wall s':>8} "
          f"{'ms/case':>8} {'marginal ms/case':>17} {'off the line':>13}")
    previous: Sample | None = None
    for size, m in medians.items():
        marginal = "" if previous is None else \
            f"{1000 * (m.wall - previous.wall) / max(1, m.distinct - previous.distinct):.1f}"
        off = m.wall - (fixed + per_case * m.distinct)
        print(f"{size:>14} {m.requests:>8} {m.distinct:>8} {m.wall:>8.2f} "
              f"{1000 * m.wall / m.distinct:>8.1f} {marginal:>17} {off:>+12.2f}s")
        previous = m
    print(f"line: wall = {fixed:.2f} s + {1000 * per_case:.2f} ms x distinct requests.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
