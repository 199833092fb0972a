"""One process of a multi-process run: `--coordinator`, `--num-processes`, `--process-id`.

The options (or the environment variables `keras.distribution.initialize`
reads itself) are checked here, before Keras is imported; the process joins
the cluster in `kerascli.engine.distribution.Plan.initialize`.
"""

from __future__ import annotations

import dataclasses

from kerascli.errors import UsageError

# The environment variables keras.distribution.initialize reads itself.
ENV_COORDINATOR = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
ENV_NUM_PROCESSES = "KERAS_DISTRIBUTION_NUM_PROCESSES"
ENV_PROCESS_ID = "KERAS_DISTRIBUTION_PROCESS_ID"


@dataclasses.dataclass(frozen=True)
class Cluster:
    """One process of a multi-process run.

    Args:
        coordinator: `HOST:PORT` of process 0 (JAX's coordinator service).
        num_processes: how many processes train together.
        process_id: this process, `0 <= process_id < num_processes`; process 0
            writes the run directory.
    """

    coordinator: str
    num_processes: int
    process_id: int


def cluster_from(coordinator: str | None, num_processes: int | None, process_id: int | None) -> Cluster | None:
    """The `Cluster` given by the options (or their environment variables).

    Returns:
        None for an ordinary single-process run.

    Raises:
        UsageError: some options are missing or out of range.
    """
    given = {"--coordinator": coordinator, "--num-processes": num_processes, "--process-id": process_id}
    if all(v is None for v in given.values()):
        return None
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise UsageError(
            f"multi-process training needs --coordinator, --num-processes and --process-id together "
            f"(or {ENV_COORDINATOR}, {ENV_NUM_PROCESSES}, {ENV_PROCESS_ID}); missing: {', '.join(missing)}"
        )
    first = coordinator.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--coordinator: expected HOST:PORT of process 0, e.g. 10.0.0.1:1234, got '{coordinator}'")
    if num_processes < 1:
        raise UsageError(f"--num-processes: expected a positive integer, got {num_processes}")
    if not 0 <= process_id < num_processes:
        raise UsageError(
            f"--process-id: expected 0 to {num_processes - 1} (--num-processes {num_processes}), got {process_id}"
        )
    return Cluster(first, num_processes, process_id)
