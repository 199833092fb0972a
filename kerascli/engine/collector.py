"""Python's cyclic garbage collector, paused while Keras is imported.

`import keras` on JAX creates ~265k objects that live as long as the
process: modules, functions, classes, JAX primitives and their rules. Every
700 new objects CPython runs a collection, and each full collection walks
all of them again; that was 0.2-0.25 s of a 0.5-0.9 s `import keras` here,
a fifth of a whole `kerascli summary`. Nothing those imports create is
garbage worth finding, so kerascli pauses the collector while they run.

When the import is done, `gc.freeze()` moves everything alive into the
collector's permanent generation: later collections (while a model builds,
trains, serves) skip the start-up heap instead of walking it once more. The
collector then runs as usual on everything created later. What was frozen is
still freed by reference counting; only a reference cycle through it is
never collected, and those objects are the modules, classes and functions a
process keeps anyway.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Within it the collector does not run; on leaving, what is alive is frozen and it runs again.

    A collector the user switched off (`gc.disable()`) stays off, and nothing
    is frozen then: the process manages its own heap.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
