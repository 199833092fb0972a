"""Learning curves: panels per quantity, PNG in the run, terminal sparkline."""

import json

import pytest

from kerascli.run.plot import PLOT_FILE, panels, plot_histories, plot_history, run_labels, sparkline, write_plot

MULTI_OUTPUT = {
    "loss": [1.0, 0.5],
    "digit_loss": [0.7, 0.3],
    "size_loss": [0.3, 0.2],
    "digit_accuracy": [0.5, 0.8],
    "size_mae": [0.4, 0.3],
    "val_loss": [1.1, 0.6],
    "val_digit_loss": [0.8, 0.4],
    "val_size_loss": [0.3, 0.2],
    "val_digit_accuracy": [0.4, 0.7],
    "val_size_mae": [0.5, 0.4],
}


def test_one_panel_per_quantity_with_train_and_validation_lines():
    fig = plot_history(MULTI_OUTPUT)
    assert panels(MULTI_OUTPUT) == ["loss", "digit_loss", "size_loss", "digit_accuracy", "size_mae"]
    assert [ax.get_title() for ax in fig.axes] == panels(MULTI_OUTPUT)
    for ax in fig.axes:
        assert [line.get_label() for line in ax.get_lines()] == ["train", "validation"]
    assert list(fig.axes[3].get_lines()[1].get_ydata()) == [0.4, 0.7]


def test_several_runs_overlay_in_one_colour_each():
    fig = plot_histories(
        {
            "a": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]},
            "b": {"loss": [0.9, 0.4, 0.3], "accuracy": [0.5, 0.6, 0.7]},
        }
    )
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss, accuracy = fig.axes
    assert [line.get_label() for line in loss.get_lines()] == ["a train", "a validation", "b train"]
    assert len({line.get_color() for line in loss.get_lines()}) == 2  # a's two curves share a colour
    assert loss.get_lines()[0].get_color() == loss.get_lines()[1].get_color()
    assert [line.get_label() for line in accuracy.get_lines()] == ["b train"]
    assert list(loss.get_lines()[2].get_ydata()) == [0.9, 0.4, 0.3]


def test_run_labels_drop_the_name_when_every_run_shares_it(tmp_path):
    same = [tmp_path / "iris" / "20261201-100000", tmp_path / "iris" / "20261201-110000"]
    assert run_labels(same) == ["20261201-100000", "20261201-110000"]
    mixed = [tmp_path / "iris" / "20261201-100000", tmp_path / "iris-wide" / "20261201-100000"]
    assert run_labels(mixed) == ["iris/20261201-100000", "iris-wide/20261201-100000"]


def test_training_without_validation_has_one_line_per_panel():
    fig = plot_history({"loss": [0.9, 0.5, 0.4], "accuracy": [0.3, 0.6, 0.7]})
    assert len(fig.axes) == 2
    assert all(len(ax.get_lines()) == 1 for ax in fig.axes)


def test_empty_history_is_a_clear_error():
    from kerascli.errors import KerasCliError

    with pytest.raises(KerasCliError, match="no loss or metric values"):
        plot_history({})


def test_write_plot_writes_a_png_into_the_run(tmp_path):
    run = tmp_path / "runs" / "iris" / "20260101-000000"
    run.mkdir(parents=True)
    (run / "history.json").write_text(json.dumps(MULTI_OUTPUT))
    path = write_plot(run)
    assert path == run / PLOT_FILE
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_sparkline_follows_the_values():
    assert sparkline([4.0, 3.0, 2.0, 1.0]) == "█▆▃▁"
    assert sparkline([1.0, 1.0]) == "▅▅"
    assert len(sparkline(list(range(500)), width=40)) == 40
    assert sparkline([1.0, float("nan"), 0.0]) == "█ ▁"


def test_train_plot_and_plot_command(cli, iris_config, workdir):
    result = cli("train", iris_config, "--set", "fit.epochs=2", "--plot")
    assert result.exit_code == 0, result.output
    assert "learning curves:" in result.output
    assert "loss " in result.output and "val_loss " in result.output  # the sparkline summary
    run_dir = next((workdir / "runs" / "iris").iterdir())
    assert (run_dir / PLOT_FILE).stat().st_size > 0
    (run_dir / PLOT_FILE).unlink()
    result = cli("plot", run_dir)
    assert result.exit_code == 0, result.output
    assert (run_dir / PLOT_FILE).stat().st_size > 0
    result = cli("plot", workdir / "nowhere")
    assert result.exit_code == 2
    assert "no such run directory" in result.output
