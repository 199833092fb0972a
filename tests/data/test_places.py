"""A CSV row's own line: quoted line breaks, empty lines and CRLF endings do not shift it."""

from __future__ import annotations

import random

import pytest

from kerascli.data.places import _plain_line, csv_line, csv_records


@pytest.mark.parametrize(
    "text, lines",
    [
        ("a,b\n1,2\n3,4\n", [2, 3]),
        ('a,b\n1,"x\ny"\n3,4\n', [2, 4]),  # the quoted cell holds a line break
        ("a,b\n\n1,2\n\n\n3,4\n", [3, 6]),  # empty lines hold no record
        ("\na,b\r\n1,2\r\n3,4\r\n", [3, 4]),
        ('a,"long\nheader"\n1,2\n', [3]),
        ("a,b\r1,2\r3,4\r", [2, 3]),  # old Mac line ends
    ],
    ids=["plain", "quoted-break", "empty-lines", "crlf", "header-break", "cr"],
)
def test_each_row_is_named_by_the_line_where_it_starts(tmp_path, text, lines):
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode())
    assert [csv_line(path, row) for row in range(len(lines))] == lines
    assert [r.line for r in csv_records(path)] == lines


def test_the_byte_scan_answers_only_when_it_agrees_with_the_csv_parser(tmp_path):
    # The fast path counts line breaks; anything that may make records differ from lines sends it to the parser.
    pieces = ["{i},1\r\n", "\n", '{i},"x\ny"\n', '{i},"q""q"\n', "\r\n", "{i},3\r"]
    rng = random.Random(0)
    answered = 0
    for _ in range(300):
        rows = [rng.choice(pieces) if rng.random() < 0.15 else "{i},2\n" for _ in range(rng.randint(1, 20))]
        path = tmp_path / "f.csv"
        path.write_bytes(("a,b\n" + "".join(r.format(i=i) for i, r in enumerate(rows))).encode())
        for record in csv_records(path):
            for block_bytes in (1, 3, 1 << 20):
                fast = _plain_line(path, record.row, block_bytes)
                assert fast in (None, record.line)
                answered += fast is not None
    assert answered > 1000  # and it does answer for plain prefixes
