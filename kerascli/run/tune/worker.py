"""A `--jobs` worker process: `python -m kerascli.run.tune.worker '<json>'` (started by `workers.run`).

It pins itself to its cores before JAX starts, then runs its quota of
trials of the study; SIGINT from the parent stops it after the current trial.
Exit code 0 (done), 130 (stopped by a signal), 2 or 1 with the message on stderr.
"""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> int:
    args = json.loads(argv[1])
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, args["cpus"])
    from kerascli.errors import KerasCliError
    from kerascli.run.tune.session import Plan, StopOnSignal, run_trials

    plan = Plan(**args["plan"])
    try:
        if plan.plugins:
            from kerascli.engine import plugins

            plugins.load(plan.plugins, plan.backend)
        with StopOnSignal(quiet=True) as stop:
            run_trials(plan, args["quota"], worker=args["worker"], stop=stop, parent=args["parent"])
    except KerasCliError as exc:
        sys.stderr.write("\n".join(exc.lines()) + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 130 if stop.requested else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
