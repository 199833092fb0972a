"""`kerascli.run.serve.schema` and `problems`: the request model of a run's inputs, and its 422 lines."""

import numpy as np
import pydantic
import pytest

from kerascli.run.serve import problems, schema

INPUTS = [
    {"name": "image", "shape": [None, 2, 3], "dtype": "float32", "columns": None},
    {"name": "meta", "shape": [None, 2], "dtype": "float32", "columns": ["age", "weight (kg)"]},
    {"name": "token", "shape": [None, 1], "dtype": "int32", "columns": ["token_id"]},
]
ROW = {"image": [[1, 2, 3], [4, 5, 6]], "age": 3, "weight (kg)": 2.5, "token_id": 7}


def validate(rows):
    model = schema.request_model(schema.row_model(INPUTS), max_rows=10)
    try:
        return model.model_validate({"rows": rows}), None
    except pydantic.ValidationError as exc:
        return None, problems.summarize(exc.errors(), ["image", "age", "weight (kg)", "token_id"])


def test_rows_become_one_array_per_input_in_column_order():
    body, problem = validate([ROW, {**ROW, "age": 4}])
    assert problem is None
    arrays = schema.to_arrays(body.rows, INPUTS)
    assert arrays["image"].shape == (2, 2, 3) and arrays["image"].dtype == np.float32
    assert arrays["meta"].tolist() == [[3.0, 2.5], [4.0, 2.5]]
    assert arrays["token"].dtype == np.int32 and arrays["token"].tolist() == [[7], [7]]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({**ROW, "image": [[1, 2, 3]]}, "rows[0].image: 1 items, expected at least 2"),
        ({**ROW, "image": [[1, 2, 3], [4, 5]]}, "rows[0].image[1]: 2 items, expected at least 3"),
        ({**ROW, "token_id": 7.5}, "rows[0].token_id: input should be a valid integer, got 7.5"),
        ({**ROW, "age": True}, "rows[0].age: input should be a valid number, got true"),
        ({**ROW, "weight (kg)": None}, "rows[0].weight (kg): input should be a valid number, got null"),
        ({**ROW, "wieght (kg)": 1.0}, "rows[0].wieght (kg): unknown column (did you mean 'weight (kg)'?)"),
    ],
    ids=["short-array", "ragged-array", "float-for-int", "bool", "null", "typo"],
)
def test_each_problem_is_named_where_it_is(row, reason):
    _, problem = validate([row])
    assert reason in problem


def test_all_problems_on_one_line_the_first_five_shown():
    _, problem = validate([{**ROW, "age": "x"}] * 7)
    assert problem.count("rows[") == problems.MAX_SHOWN
    assert problem.endswith("; and 2 more") and "\n" not in problem


def test_an_integer_outside_the_dtype_is_an_overflow_error():
    body, _ = validate([{**ROW, "token_id": 2**40}])
    with pytest.raises(OverflowError, match="int32"):
        schema.to_arrays(body.rows, INPUTS)
