"""`kerascli serve`: load the run once, compile every batch size, then open the port.

With one worker the app is built here, in the serving process: the model is
loaded and every padded batch size is compiled (`MicroBatcher.warm_up`)
before uvicorn binds the port, so the first request is as fast as the next.
With `--workers N` uvicorn starts N processes that each build the same app
(`app_from_env`, the options passed in `ENV`) and warm it up before taking
requests; the socket is then bound by uvicorn's supervisor first.
uvicorn stops on SIGTERM or Ctrl-C after the requests in flight are answered.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import signal

from kerascli.errors import KerasCliError

ENV = "KERASCLI_SERVE_OPTIONS"
NEEDS = ("fastapi", "uvicorn")
WORKER_START_SECONDS = 600  # a worker loads and compiles the model before it answers uvicorn's health check


@dataclasses.dataclass
class ServeOptions:
    """What `kerascli serve` was asked for.

    Args:
        target: the run directory or config (None: the latest run under ./runs).
        overrides: `--set` overrides of the run's config.
        backend: `--backend`.
        max_batch: most rows in one model call (micro-batches are padded to powers of two up to it).
        max_rows: most rows in one request.
        max_body: most bytes in one request body.
    """

    target: str | None = None
    overrides: list[str] = dataclasses.field(default_factory=list)
    backend: str | None = None
    max_batch: int = 128
    max_rows: int = 10_000
    max_body: int = 16 * 2**20
    plugins: list[str] = dataclasses.field(default_factory=list)  # --plugin modules, imported in every worker


def require_extra() -> None:
    """Raises a one-line error naming the extra when FastAPI or uvicorn is missing."""
    missing = [name for name in NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise KerasCliError(f"serve needs {', '.join(missing)}, which is not installed: pip install 'kerascli[serve]'")


def build_app(options: ServeOptions):
    """Loads the run, warms up every batch size and returns the FastAPI app."""
    from kerascli.run.rundir import open_run
    from kerascli.run.serve.app import create_app
    from kerascli.run.serve.batching import MicroBatcher
    from kerascli.run.serve.service import Service

    if options.plugins:
        from kerascli.engine import plugins

        plugins.load(options.plugins, options.backend)
    service = Service(open_run(options.target, options.overrides, options.backend))
    batcher = MicroBatcher(service.predict, options.max_batch)
    batcher.warm_up(service.example())
    return create_app(service, batcher, max_rows=options.max_rows, max_body=options.max_body)


def app_from_env():
    """The app of one of several workers (uvicorn's factory), from the options in `ENV`."""
    return build_app(ServeOptions(**json.loads(os.environ[ENV])))


def serve(options: ServeOptions, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serves the run until SIGTERM or Ctrl-C, then returns (the command exits 0).

    Raises:
        KerasCliError: FastAPI or uvicorn is missing, or the run cannot be loaded.
    """
    require_extra()
    import uvicorn

    settings = {"host": host, "port": port, "access_log": False, "log_level": "info", "timeout_graceful_shutdown": 10}
    if workers == 1:
        _server_class()(uvicorn.Config(build_app(options), **settings)).run()
        return
    os.environ[ENV] = json.dumps(dataclasses.asdict(options))
    uvicorn.run(
        "kerascli.run.serve.serving:app_from_env",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_START_SECONDS,
        **settings,
    )


def _server_class():
    """uvicorn's Server, except that a SIGTERM or SIGINT it has shut down for is not raised again.

    uvicorn re-raises the signal after a graceful shutdown, so the process
    would die of it (exit -15); a server stopped as asked exits 0.
    """
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return Server
