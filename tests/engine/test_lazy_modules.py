"""`kerascli.engine.lazy_modules`: Keras starts without JAX's TPU kernels and still reaches them."""

from fresh_python import printed_words

KERNELS = "jax.experimental.pallas.ops.tpu.splash_attention"


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
    assert printed_words(code) == ["False", "False", "True", "True"]


def test_the_stand_in_is_gone_after_import_keras():
    code = (
        "import sys, kerascli.engine.keras_import as k; k.load_keras('jax'); "
        f"print({KERNELS!r} in sys.modules); "
        f"import {KERNELS}.splash_attention_mask as m; print(type(m).__name__, hasattr(m, 'NumpyMask'))"
    )
    assert printed_words(code) == ["False", "module", "True"]


def test_keras_starts_without_scipy_and_sparse_linalg_still_works():
    code = (
        "import sys, kerascli.engine.keras_import as k; k.load_keras('jax'); "
        "print('scipy' in sys.modules, 'jax.experimental.sparse.linalg' in sys.modules); "
        "import jax.numpy as jnp; from jax.experimental import sparse; "
        "x = sparse.linalg.spsolve(jnp.array([2.0]), jnp.array([0]), jnp.array([0, 1]), jnp.array([4.0])); "
        "print(float(x[0]), type(sys.modules['jax.experimental.sparse.linalg']).__name__)"
    )
    assert printed_words(code) == ["False", "False", "2.0", "module"]


def test_keras_sparse_tensors_still_convert():
    code = (
        "import kerascli.engine.keras_import as k; keras = k.load_keras('jax'); "
        "import numpy as np; from jax.experimental import sparse; "
        "x = sparse.BCOO.fromdense(np.eye(2, dtype='float32')); "
        "print(keras.ops.is_tensor(x), float(keras.ops.sum(keras.ops.convert_to_tensor(x, sparse=False))))"
    )
    assert printed_words(code) == ["True", "2.0"]


def test_keras_starts_without_h5py_and_the_legacy_h5_format_still_saves_and_loads(tmp_path):
    path = tmp_path / "model.h5"
    code = (
        "import sys, kerascli.engine.keras_import as k; keras = k.load_keras('jax'); "
        "print('h5py' in sys.modules); "
        "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]); "
        f"model.save({str(path)!r}); "
        f"again = keras.saving.load_model({str(path)!r}); "
        "import h5py; from keras.src.legacy.saving import legacy_h5_format as legacy; "
        "print(legacy.h5py.File is h5py.File, again.count_params())"
    )
    assert printed_words(code) == ["False", "True", "8"]
