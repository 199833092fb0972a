"""Training on several devices and processes through `keras.distribution`.

kerascli adds no runtime of its own: the config's `distribution:` becomes a
`keras.distribution.DataParallel` or `ModelParallel`, and `--coordinator /
--num-processes / --process-id` become `keras.distribution.initialize`
(JAX's distributed runtime). What kerascli does on top:

- checks everything it can before Keras is imported (backend, options, seed;
  the multi-process options in `kerascli.engine.cluster`);
- sets the distribution before the model is built;
- gives each process its own contiguous shard of the training and validation
  rows (`auto_shard_dataset=False`: Keras shards only `tf.data` datasets),
  trimmed so that every batch splits evenly over the devices and every process
  runs the same number of steps (a process that ran one step more would wait
  for the others forever);
- turns `fit.batch_size` (the global batch) into the per-process batch;
- checks that every `layout` regex matches a variable (Keras would silently
  replicate the variable instead).

The distribution is JAX-only: Keras' TensorFlow and torch backends have no
`keras.distribution` implementation to hand the config to.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from kerascli.config import spec
from kerascli.config.document import Document
from kerascli.engine.cluster import ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID, Cluster, cluster_from
from kerascli.errors import ConfigError, KerasCliError

# `Cluster` and `cluster_from` live in `kerascli.engine.cluster`; they are part of this module's interface too.
__all__ = ["ENV_COORDINATOR", "ENV_NUM_PROCESSES", "ENV_PROCESS_ID", "Cluster", "Plan", "cluster_from", "release"]

_APPLIED: list = []  # the distributions `Plan.apply` set, so that `release` undoes only those


def release() -> None:
    """Unsets the Keras distribution kerascli set, if it is still the current one.

    The distribution is process-global state in Keras; a later `evaluate` or
    `predict` in the same process (tests, notebooks) must not inherit it.
    """
    while _APPLIED:
        applied = _APPLIED.pop()
        from kerascli.engine.keras_import import load_keras  # noqa: PLC0415 - Keras runs already: `apply` ran

        keras = load_keras()

        if keras.distribution.distribution() is applied:
            keras.distribution.set_distribution(None)


class Plan:
    """How one `train` is spread over devices; a no-op for an ordinary run.

    Create it before Keras is imported (the checks need no Keras); call
    `initialize` right after the import, `apply` before the model is built.

    Args:
        doc: the config document (for error locations).
        cfg: the config.
        cluster: this process's place in a multi-process run, or None.
        backend: the backend Keras will use.

    Raises:
        ConfigError: a distribution on a backend other than JAX, a global batch
            that does not split over the processes, or a multi-process run
            without a fixed seed.
    """

    def __init__(self, doc: Document, cfg: spec.Config, cluster: Cluster | None, backend: str):
        self.doc = doc
        self.cluster = cluster
        # Several processes only make sense with a distribution: default to data parallel.
        self.spec = cfg.distribution or (spec.DataParallelSpec(type="data_parallel") if cluster else None)
        self.batch_axis_size = 1  # devices the batch is split over (set by `apply`)
        self.rows_dropped: dict[str, int] = {}
        if self.spec is None:
            return
        if backend != "jax":
            what = "keras.distribution" if cfg.distribution else "multi-process training (keras.distribution)"
            problem = doc.problem(
                ("distribution", "type") if cfg.distribution else (),
                f"{what} needs the jax backend, the run uses '{backend}'; "
                "set backend: jax (or --backend jax)" + (" or remove the distribution" if cfg.distribution else ""),
            )
            raise ConfigError([problem])
        if cluster is not None:
            if cfg.seed is None:
                raise ConfigError(
                    [
                        doc.problem(
                            ("seed",) if "seed" in doc.data else (),
                            "multi-process training needs a fixed seed, so that every process builds the same "
                            "initial weights and validation split; add seed: N to the config or --set seed=N",
                        )
                    ]
                )
            if cfg.fit.batch_size % cluster.num_processes:
                raise ConfigError(
                    [
                        doc.problem(
                            ("fit", "batch_size") if "batch_size" in doc.data.get("fit", {}) else ("fit",),
                            f"fit.batch_size {cfg.fit.batch_size} is the global batch and must divide evenly "
                            f"over --num-processes {cluster.num_processes}",
                        )
                    ]
                )

    @property
    def active(self) -> bool:
        """Whether a distribution is set at all."""
        return self.spec is not None

    @property
    def writer(self) -> bool:
        """Whether this process writes the run directory (process 0, or the only one)."""
        return self.cluster is None or self.cluster.process_id == 0

    @property
    def processes(self) -> int:
        """How many processes train together (1 for an ordinary run)."""
        return self.cluster.num_processes if self.cluster else 1

    def initialize(self, keras) -> None:
        """Joins the cluster (`keras.distribution.initialize`); call before any computation."""
        if self.cluster is None:
            return
        c = self.cluster
        try:
            keras.distribution.initialize(
                job_addresses=c.coordinator, num_processes=c.num_processes, process_id=c.process_id
            )
        except Exception as exc:  # noqa: BLE001 - JAX raises RuntimeError/XlaRuntimeError/ValueError
            raise KerasCliError(
                f"cannot join the cluster at {c.coordinator} as process {c.process_id} of {c.num_processes}: {exc}"
            ) from None

    def apply(self, keras, fit_batch_size: int, validation_batch_size: int | None) -> None:
        """Sets the Keras distribution; call before the model is built.

        Raises:
            ConfigError: unknown devices, a mesh that does not fit the
                devices, or a batch that does not split over the devices.
        """
        if self.spec is None:
            return
        available = keras.distribution.list_devices()
        if isinstance(self.spec, spec.DataParallelSpec):
            devices = self._devices(self.spec.devices, available, ("distribution", "devices"))
            distribution = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
            self.batch_axis_size = len(devices)
        else:
            distribution = self._model_parallel(keras, available)
        for name, batch in (("batch_size", fit_batch_size), ("validation_batch_size", validation_batch_size)):
            if batch is not None and batch % self.batch_axis_size:
                raise ConfigError(
                    [
                        self.doc.problem(
                            ("fit", name) if name in self.doc.data.get("fit", {}) else ("fit",),
                            f"fit.{name} {batch} is the global batch and must divide evenly over the "
                            f"{self.batch_axis_size} devices it is split across",
                        )
                    ]
                )
        if self.cluster is not None and self.batch_axis_size % self.cluster.num_processes:
            raise ConfigError(
                [
                    self.doc.problem(
                        ("distribution",) if "distribution" in self.doc.data else (),
                        f"the batch is split over {self.batch_axis_size} devices, which do not divide "
                        f"evenly over {self.cluster.num_processes} processes",
                    )
                ]
            )
        keras.distribution.set_distribution(distribution)
        _APPLIED.append(distribution)

    def _devices(self, wanted, available, key) -> list[str]:
        if wanted is None:
            return list(available)
        unknown = [d for d in wanted if d not in available]
        if unknown:
            raise ConfigError(
                [self.doc.problem(key, f"no device '{unknown[0]}' here; the devices are: {', '.join(available)}")]
            )
        return list(wanted)

    def _model_parallel(self, keras, available):
        mesh_spec = self.spec.mesh
        devices = self._devices(mesh_spec.devices, available, ("distribution", "mesh", "devices"))
        needed = math.prod(mesh_spec.shape)
        if needed != len(devices):
            raise ConfigError(
                [
                    self.doc.problem(
                        ("distribution", "mesh", "shape"),
                        f"a mesh of shape {mesh_spec.shape} needs {needed} devices, "
                        f"there are {len(devices)}: {', '.join(devices)}",
                    )
                ]
            )
        mesh = keras.distribution.DeviceMesh(
            shape=tuple(mesh_spec.shape), axis_names=list(mesh_spec.axis_names), devices=devices
        )
        layout_map = keras.distribution.LayoutMap(mesh)
        for pattern, axes in self.spec.layout.items():
            layout_map[pattern] = tuple(axes)
        batch_dim = self.spec.batch_dim_name or mesh_spec.axis_names[0]
        self.batch_axis_size = mesh_spec.shape[mesh_spec.axis_names.index(batch_dim)]
        return keras.distribution.ModelParallel(
            layout_map=layout_map, batch_dim_name=batch_dim, auto_shard_dataset=False
        )

    def check_layout(self, model) -> None:
        """Every `layout` regex must match a variable of the built model.

        Keras full-matches each regex against variable paths and silently
        replicates a variable no regex matches, so a typo would train a
        replicated model that was meant to be sharded.

        Raises:
            ConfigError: one problem per regex that matches nothing.
        """
        if not isinstance(self.spec, spec.ModelParallelSpec):
            return
        paths = [v.path for v in model.variables]
        problems = []
        for pattern in self.spec.layout:
            if any(re.fullmatch(pattern, p) for p in paths):
                continue
            close = difflib.get_close_matches(pattern, paths, n=1, cutoff=0.5)
            hint = (
                f" (did you mean '{close[0]}'?)"
                if close
                else f"; the variables are: {', '.join(paths[:12])}{' ...' if len(paths) > 12 else ''}"
            )
            problems.append(
                self.doc.problem(
                    ("distribution", "layout", pattern),
                    f"layout key '{pattern}' matches no variable of the model (regexes are full-matched "
                    f"against variable paths){hint}",
                )
            )
        if problems:
            raise ConfigError(problems)

    def local_batch(self, batch: int | None) -> int | None:
        """The per-process share of a global batch size."""
        return None if batch is None else batch // self.processes

    def shard(self, arrays, role: str):
        """This process's rows of `arrays`, trimmed to split evenly over devices.

        Every process gets the same number of rows (the remainder of an uneven
        split is dropped), a multiple of its share of the batch axis, so the
        last, partial batch still splits evenly and no process runs an extra
        step. Dropped rows are recorded in `rows_dropped[role]`.
        """
        if arrays is None or self.spec is None:
            return arrays
        import numpy as np

        n = len(arrays)
        per_process = n // self.processes
        granule = max(1, self.batch_axis_size // self.processes)
        per_process -= per_process % granule
        if per_process == 0:
            raise ConfigError(
                [
                    self.doc.problem(
                        ("data", role) if role in self.doc.data.get("data", {}) else ("data",),
                        f"{n} {role} rows are too few to give each of {self.processes} process(es) "
                        f"a multiple of {granule} rows",
                    )
                ]
            )
        dropped = n - per_process * self.processes
        if dropped:
            self.rows_dropped[role] = dropped
        start = (self.cluster.process_id if self.cluster else 0) * per_process
        if dropped == 0 and self.processes == 1:
            return arrays
        return arrays.take(np.arange(start, start + per_process))

    def describe(self) -> dict[str, Any] | None:
        """What `run.json` records about the distribution."""
        if self.spec is None:
            return None
        info: dict[str, Any] = {
            "type": self.spec.type,
            "batch_axis_devices": self.batch_axis_size,
            "processes": self.processes,
        }
        if self.cluster is not None:
            info["coordinator"] = self.cluster.coordinator
        if self.rows_dropped:
            info["rows_dropped"] = dict(self.rows_dropped)
        return info
