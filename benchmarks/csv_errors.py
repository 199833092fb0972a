"""CSV data errors: what naming the bad record's own line costs, against `pyarrow.csv.read_csv` alone.

    python benchmarks/csv_errors.py --rows 1000000

Writes two CSVs of ROWS rows (two float columns, a label) whose last row has
an empty cell: one plain, one with a quoted note holding a line break in
every row (every record spans two lines, so lines are found by parsing).
Prints, best of --repeat, the wall and CPU time of `data.load` on a good
file, on each bad file (the error names the line), and of pyarrow reading
the same file, with the ratios. The happy path does no line scan at all.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.csv

from kerascli import config, data
from kerascli.config.spec import Source
from kerascli.errors import DataError


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(action, repeat: int) -> tuple[float, float, str]:
    best = (float("inf"), float("inf"), "")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), _cpu()
        try:
            action()
            said = "ok"
        except DataError as exc:
            said = str(exc).split(": ", 2)[-1]
        best = min(best, (time.perf_counter() - wall, _cpu() - cpu, said))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kerascli-csv-errors-") as tmp:
        tmp = Path(tmp)
        values = np.random.default_rng(0).random((args.rows, 2))
        plain = "".join(f"{a:.5f},{b:.5f},x,{i % 2}\n" for i, (a, b) in enumerate(values))
        quoted = "".join(f'{a:.5f},{b:.5f},"a\nnote",{i % 2}\n' for i, (a, b) in enumerate(values))
        header = "a,b,note,y\n"
        (tmp / "good.csv").write_text(header + plain)
        (tmp / "bad.csv").write_text(header + plain + "1,,x,0\n")
        (tmp / "bad-quoted.csv").write_text(header + quoted + "1,,x,0\n")
        doc = config.parse("data: {}\n", "c.yaml", tmp / "c.yaml")

        def load(name):
            source = Source(path=name, x=["a", "b"], y="y")
            return lambda: data.load(source, doc, ("data", "train"), input_names=None, output_names=["o"], labels={})

        print(f"CSV of {args.rows} rows, best of {args.repeat} (wall / CPU user+sys):")
        for name in ("good.csv", "bad.csv", "bad-quoted.csv"):
            options = pyarrow.csv.ParseOptions(newlines_in_values="quoted" in name)
            path = tmp / name
            base = _timed(lambda p=path, o=options: pyarrow.csv.read_csv(p, parse_options=o), args.repeat)
            ours = _timed(load(name), args.repeat)
            print(
                f"  {name:15s} kerascli {ours[0]:6.2f} s / {ours[1]:6.2f} s   pyarrow {base[0]:6.2f} s / {base[1]:6.2f} s"
                f"   ratio wall {ours[0] / base[0]:5.2f}x CPU {ours[1] / base[1]:5.2f}x   {ours[2]}"
            )


if __name__ == "__main__":
    main()
