"""`kerascli export`: a run's model in another format, verified, with its signature.

Modules:

    formats.py     the formats: artifact name, writing backend, dependencies, extra
    exporting.py   the command: sample, reference, worker, compare, publish
    worker.py      the subprocess that reloads the model on the format's backend and exports it
    runtimes.py    running an artifact with its own runtime (onnxruntime, OpenVINO, TF, LiteRT)
    verify.py      the sample rows, Keras' reference predictions, the comparison
    signature.py   inputs, outputs, classes, preprocessing (`signature.json`, `serve`'s /metadata)
"""
