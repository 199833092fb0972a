"""The FastAPI app: `POST /predict`, `GET /health`, `GET /metadata`, OpenAPI from the run's inputs.

Every bad request is a 422 whose `detail` is one line (`rows[0].sepal_width:
input should be a valid number, got "wide"`): a body that is not JSON, a
missing or unknown column, a wrong type or shape, too many rows, too large a
body, a value that does not fit the input's dtype. A failure inside the
model is a 500 with a one-line `detail`, never a traceback.
"""

import contextlib
import logging

import numpy as np
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from kerascli.run.serve import problems, schema
from kerascli.run.serve.batching import MicroBatcher

log = logging.getLogger("kerascli.serve")


def create_app(service, batcher: MicroBatcher, *, max_rows: int, max_body: int) -> FastAPI:
    """The app serving `service` through `batcher`.

    Args:
        service: the loaded run (`kerascli.run.serve.service.Service`).
        batcher: the micro-batcher around the service's predict function
            (started and stopped with the app).
        max_rows: most rows in one request.
        max_body: most bytes in one request body.

    Returns:
        The FastAPI app.
    """
    row = schema.row_model(service.inputs)
    body_model = schema.request_model(row, max_rows)
    columns = [field.alias for field in row.model_fields.values()]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(
        title=f"kerascli serve: {service.name}",
        version=service.signature["versions"]["kerascli"],
        description=service.description(),
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_body=max_body)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        return JSONResponse({"detail": problems.summarize(list(exc.errors()), columns)}, status_code=422)

    @app.get("/health", summary="Ready: the model is loaded and compiled")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/metadata", summary="Inputs, outputs, classes and versions of the run")
    async def metadata() -> dict:
        return service.signature

    predict = predict_endpoint(service, batcher, body_model)
    app.post("/predict", summary="Predictions for rows of inputs, decoded as by `kerascli predict`")(predict)
    return app


def predict_endpoint(service, batcher: MicroBatcher, body_model):
    """The `POST /predict` handler: rows in, decoded predictions out, every failure one line.

    Args:
        service: the loaded run.
        batcher: the micro-batcher that runs the model.
        body_model: the Pydantic model of a request body (`schema.request_model`).

    Returns:
        The async handler, its body typed by `body_model` (FastAPI reads it for the OpenAPI).
    """

    # The body type is built at run time: this module has no `from __future__ import annotations`,
    # so FastAPI sees the class itself.
    async def predict(body: body_model):  # type: ignore[valid-type]
        try:
            arrays = schema.to_arrays(body.rows, service.inputs)
        except OverflowError as exc:  # an integer input given a value outside its dtype
            return JSONResponse({"detail": f"rows: {exc}"}, status_code=422)
        overflow = not_finite(arrays, service.inputs)
        if overflow:
            return JSONResponse({"detail": overflow}, status_code=422)
        try:
            outputs = await batcher.submit(arrays)
        except Exception as exc:  # noqa: BLE001 - the model failed: one line, the traceback in the log
            log.exception("prediction failed")
            return JSONResponse(
                {"detail": f"prediction failed: {type(exc).__name__}: {exc}".splitlines()[0]}, status_code=500
            )
        # Plain JSON of plain values: FastAPI's jsonable_encoder pass over every row is skipped.
        return JSONResponse({"predictions": service.decode(outputs)})

    return predict


def not_finite(arrays: dict[str, np.ndarray], inputs: list[dict]) -> str | None:
    """A one-line reason when a value overflowed its input's dtype (1e300 in float32), else None."""
    for spec in inputs:
        values = arrays[spec["name"]]
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            row, *place = (int(i) for i in np.argwhere(~np.isfinite(values))[0])
            where = (
                f".{spec['columns'][place[0]]}"
                if spec["columns"]
                else f".{spec['name']}" + "".join(f"[{i}]" for i in place)
            )
            return f"rows[{row}]{where}: the value does not fit in {values.dtype} (at most {np.finfo(values.dtype).max:.3g})"
    return None


class BodyLimit:
    """ASGI middleware: a request body over `max_body` bytes is answered 422 before it is parsed."""

    def __init__(self, app, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return await self._refuse(send, int(declared))
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                return await self._refuse(send, size)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send, size: int):
        response = JSONResponse(
            {"detail": f"body: {size} bytes is too large, at most {self.max_body} are accepted (--max-body)"},
            status_code=422,
        )
        await send({"type": "http.response.start", "status": 422, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})
