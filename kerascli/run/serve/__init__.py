"""`kerascli serve`: a trained run behind FastAPI and uvicorn.

Modules:

    serving.py    the command: options, the extra check, load and warm up, uvicorn
    service.py    the loaded run: signature, one-batch predict, `kerascli predict`'s decoding
    app.py        the FastAPI app: routes, 422 handling, the body-size limit
    schema.py     the request model (OpenAPI) generated from the run's inputs
    problems.py   validation errors as one line
    batching.py   micro-batching of concurrent requests, padded batch sizes
"""
