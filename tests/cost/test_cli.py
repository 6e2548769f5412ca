"""`python -m cost` as a user runs it: the defaults, and bad input (exit 2, one line)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cost import cli
from tests.support.commands import run_module


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_module("cost", *args, timeout=120)


def test_defaults_print_three_itemised_bills_side_by_side_the_first_limit_and_a_plot(
    tmp_path: Path,
):
    png = tmp_path / "cost.png"
    done = run("--plot", str(png))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for title in ("This design: IoT Core", "API Gateway WebSockets", "AppSync Events"):
        assert f"\n{title}: " in out
    for line in ("messaging (MQTT and HTTP)", "WebSocket messages", "Event API operations"):
        assert line in out
    assert "Side by side, USD per month (list prices)" in out
    assert "always-free allowances" in out and "12-month free tier" in out
    assert "first limit these numbers reach: " in out
    assert f"Plot: {png}" in out
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--users", "-5"), "--users must be at least 0, got -5"),
        (("--users",), "argument --users: expected one argument"),
        (("--room-size", "ten"), "argument --room-size: must be a number, got 'ten'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], expected: str):
    done = run("--no-plot", *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"python -m cost: error: {expected}\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--message-bytes", "1.5"], "argument --message-bytes: must be a whole number, got '1.5'"),
        (["--hours", "inf"], "argument --hours: must be a finite number, got 'inf'"),
        (["--stream-share", "0.5", "--no-stream"], "--stream-share needs the stream path"),
        (["--subscribe-qos", "2"], "--subscribe-qos must be 0 or 1, got 2"),
    ],
)
def test_more_bad_input_in_process(args: list[str], expected: str, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--no-plot", *args])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m cost: error: ") and expected in err
    assert err.count("\n") == 1


def test_a_broken_price_file_is_one_line_and_exit_2(tmp_path: Path, capsys):
    broken = tmp_path / "prices.toml"
    broken.write_text('region = "us-east-1"\n', encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--no-plot", "--prices", str(broken)])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == "python -m cost: error: prices.toml: no [prices.*] entries\n"
