"""`kerascli serve RUN [--host 127.0.0.1] [--port 8000] [--workers N]`: predictions over HTTP."""

from typing import Annotated

import typer

from kerascli.cli.app import BackendOption, PluginOption, RunArgument, SetOption, app, handled


@app.command()
@handled
def serve(
    run: RunArgument = None,
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="The port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes, each with its own model.")] = 1,
    max_batch: Annotated[
        int,
        typer.Option("--max-batch", min=1, help="Most rows in one model call; requests are micro-batched up to it."),
    ] = 128,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="Most rows in one request.")] = 10_000,
    max_body: Annotated[int, typer.Option("--max-body", min=1, help="Most bytes in one request body.")] = 16 * 2**20,
    set_: SetOption = None,
    backend: BackendOption = None,
    plugin: PluginOption = None,
):
    """Serve a trained run over HTTP: POST /predict, GET /health, GET /metadata, /docs.

    POST /predict takes {"rows": [{column: value, ...}, ...]} and answers the
    columns `kerascli predict` writes (labels and probabilities). The model is
    loaded and compiled before the port opens; SIGTERM stops it cleanly.
    """
    from kerascli.run.serve.serving import ServeOptions
    from kerascli.run.serve.serving import serve as run_serve

    options = ServeOptions(run, set_ or [], backend, max_batch, max_rows, max_body, plugin or [])
    run_serve(options, host, port, workers)
