"""`predict --input` on a bad CSV: one line naming the file, the column and the file's own line; exit 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kerascli.cli import app

CONFIG = """\
name: tiny
seed: 1
data:
  train: {path: train.csv, x: [a, b], y: label}
model:
  layers:
    - {type: Dense, units: 4, activation: relu}
    - {type: Dense, units: 1, activation: sigmoid}
compile: {optimizer: adam, loss: binary_crossentropy}
fit: {epochs: 1, batch_size: 8}
"""
# Big enough that pyarrow reads it in several blocks (1 MB each): the bad record is in a later one.
MANY = "".join(f"{i % 7},{i % 5},n\n" for i in range(250_000))


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    home = tmp_path_factory.mktemp("tiny")
    (home / "train.csv").write_text("a,b,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40)))
    (home / "tiny.yaml").write_text(CONFIG)
    result = invoke("train", home / "tiny.yaml", "-o", home / "runs")
    assert result.exit_code == 0, result.output
    return next((home / "runs" / "tiny").iterdir())


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "a,b,note\n1,2,x\n3,abc,y\n",
            "column 'b', line 3: 'abc' is not a number; the model reads this column as numbers",
        ),
        (
            "a,b,note\n" + MANY + "1,abc,n\n",
            "column 'b', line 250002: 'abc' is not a number; the model reads this column as numbers",
        ),
        (
            'a,b,note\n1,2,"two\nlines"\n3,abc,y\n',  # the quoted line break: line 4, though it is the 2nd row
            "column 'b', line 4: 'abc' is not a number; the model reads this column as numbers",
        ),
        (
            'a,b,note\n1,2,"two\nlines"\n3,,y\n',
            "column 'b', line 4: NaN (an empty cell reads as NaN)",
        ),
        (
            "a,b,note\n1,2,x\n3,4,5,y\n",
            "line 3: 4 fields, expected 3 as in the header ('3,4,5,y')",
        ),
        (
            "a,b,note\n" + MANY + "1,2,3,n\n" + MANY,
            "line 250002: 4 fields, expected 3 as in the header ('1,2,3,n')",
        ),
        (
            'a,b,note\n1,2,x\n3,"4,y\n5,6,y\n',  # the quote opened on line 3 swallows line 4
            "line 3: 2 fields, expected 3 as in the header ('3,4,y\\n5,6,y\\n'); "
            "a quoted cell runs from line 3 to line 4: is a closing quote missing?",
        ),
        (
            b"a,b,note\n1,2,x\n3\xff,4,y\n",
            "column 'a', line 3: '3\ufffd' is not a number (the file is not valid UTF-8 there: save it as "
            "UTF-8); the model reads this column as numbers",
        ),
        (
            b"a,b,n\xffote\n1,2,x\n",
            "line 1 (the header) is not valid UTF-8 (byte 0xff): save the file as UTF-8",
        ),
    ],
    ids=[
        "text-cell",
        "text-cell-in-a-later-block",
        "text-cell-after-a-quoted-line-break",
        "nan-after-a-quoted-line-break",
        "too-many-fields",
        "too-many-fields-in-a-later-block",
        "unterminated-quote",
        "invalid-utf8-cell",
        "invalid-utf8-header",
    ],
)
def test_a_bad_input_file_is_one_line_naming_its_line(run, tmp_path, content, message):
    source = tmp_path / "f.csv"
    source.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = invoke("predict", run, "--input", source, "--output", tmp_path / "out.csv")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"{source}: --input: {message}"]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.csv").exists()
