"""`kerascli.engine.collector`: the collector pauses for `import keras`, then runs as before."""

from fresh_python import printed_words


def test_the_collector_is_off_during_the_import_and_back_on_after():
    code = (
        "import gc, kerascli.engine.collector as c\n"
        "with c.paused():\n"
        "    print(gc.isenabled())\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    assert printed_words(code) == ["False", "True", "True"]


def test_a_collector_the_user_switched_off_stays_off_and_nothing_is_frozen():
    code = (
        "import gc, kerascli.engine.collector as c\n"
        "gc.disable()\n"
        "with c.paused():\n"
        "    pass\n"
        "print(gc.isenabled(), gc.get_freeze_count())\n"
    )
    assert printed_words(code) == ["False", "0"]


def test_after_load_keras_cycles_made_later_are_still_collected():
    code = (
        "import gc, kerascli.engine.keras_import as k\n"
        "k.load_keras('jax')\n"
        "frozen = gc.get_freeze_count()\n"
        "class Node: pass\n"
        "a, b = Node(), Node()\n"
        "a.other, b.other = b, a\n"
        "del a, b\n"
        "print(gc.isenabled(), frozen > 100_000, gc.collect() >= 2)\n"
    )
    assert printed_words(code) == ["True", "True", "True"]
