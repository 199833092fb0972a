"""Regenerates kerascli/config/catalog.json from the installed Keras.

Usage:
    python tools/generate_catalog.py            # rewrite the catalogue
    python tools/generate_catalog.py --check    # exit 1 if it is stale

Runs Keras on the JAX backend (unless `KERAS_BACKEND` is set) with a
throw-away `KERAS_HOME`, so a user's `~/.keras/keras.json` neither changes
the result nor gets written.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    """Runs the generator.

    Args:
        argv: Command-line arguments (default: `sys.argv[1:]`).

    Returns:
        Exit status: 0 when written or fresh, 1 when `--check` finds it stale.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the catalogue differs from the installed Keras",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("KERAS_BACKEND", "jax")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from kerascli.config import catalog
    from kerascli.engine.keras_import import load_keras
    from kerascli.introspection import generate

    own_home = "KERAS_HOME" not in os.environ
    with tempfile.TemporaryDirectory(prefix="kerascli-keras-home-") as home:
        if own_home:
            os.environ["KERAS_HOME"] = home
        try:
            text = generate.dumps_catalog(generate.generate_catalog(load_keras()))
        finally:
            if own_home:
                del os.environ["KERAS_HOME"]

    path = catalog.CATALOG_PATH
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if args.check:
        if current != text:
            print(
                f"{path} is stale for the installed Keras; run: python tools/generate_catalog.py",
                file=sys.stderr,
            )
            return 1
        print(f"{path} is up to date.")
        return 0
    if current != text:
        path.write_text(text, encoding="utf-8")
        print(f"Wrote {path} ({len(text.encode())} bytes).")
    else:
        print(f"{path} already up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
