"""`kerascli.engine.lazy_modules`: Keras starts without JAX's TPU kernels and still reaches them."""

import subprocess
import sys

KERNELS = "jax.experimental.pallas.ops.tpu.splash_attention"


def _run(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_keras_starts_without_the_tpu_kernels_and_finds_them_when_used():
    code = (
        "import sys, importlib, kerascli.engine.keras_import as k; k.load_keras('jax'); "
        f"print({KERNELS + '.splash_attention_mask'!r} in sys.modules, 'jax._src.pallas.mosaic.lowering' in sys.modules); "
        "from keras.src.backend.jax import nn; "
        "mask = nn.splash_attention_mask.NumpyMask; "
        f"real = importlib.import_module({KERNELS + '.splash_attention_mask'!r}); "
        "print(mask is real.NumpyMask, nn.splash_attention_kernel.make_splash_mha is "
        f"importlib.import_module({KERNELS + '.splash_attention_kernel'!r}).make_splash_mha)"
    )
    assert _run(code) == ["False", "False", "True", "True"]


def test_the_stand_in_is_gone_after_import_keras():
    code = (
        "import sys, kerascli.engine.keras_import as k; k.load_keras('jax'); "
        f"print({KERNELS!r} in sys.modules); "
        f"import {KERNELS}.splash_attention_mask as m; print(type(m).__name__, hasattr(m, 'NumpyMask'))"
    )
    assert _run(code) == ["False", "module", "True"]
