"""Benchmark arithmetic on made-up runs: percentiles, loss, duplicates, misrouting."""

from __future__ import annotations

from bench.load import LoadSpec, RunData
from bench.stats import latency_summary, percentile
from bench.summary import delivery_counts, ok, ratios, summarize


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([], 50) is None
    assert latency_summary([3.0, 1.0, 2.0])["max"] == 3.0


def _run() -> RunData:
    # 4 clients in 2 rooms: 0 and 2 in room 0, 1 and 3 in room 1.
    data = RunData("x", "r", LoadSpec(clients=4, rooms=2), ["a", "b"], [0, 1, 0, 1])
    data.sent_room = [0, 1]
    data.sent_ns = [0, 0]
    data.acked = [True, True]
    data.send_end_ns = 1
    return data


def test_loss_duplicates_and_misrouting_are_counted() -> None:
    data = _run()
    data.receipts = {(0, 0): 1, (0, 2): 2, (1, 1): 1, (1, 0): 1}
    counts = delivery_counts(data)
    assert counts["expected_deliveries"] == 4
    assert counts["lost"] == 1  # (1, 3) never arrived
    assert counts["duplicates"] == 1  # (0, 2) twice
    assert counts["misrouted"] == 1  # client 0 is not in room 1


def test_a_clean_run_is_ok_and_ratios_compare_to_the_emulator() -> None:
    data = _run()
    data.receipts = {(0, 0): 1, (0, 2): 1, (1, 1): 1, (1, 3): 1}
    data.samples = [(0.0, 10.0), (0.0, 20.0)]
    emu = summarize(data, {"stored": 2, "missing": 0, "duplicates": 0}, {})
    assert ok(emu)
    base = dict(emu, target="amqtt", latency_ms=latency_summary([1.0, 2.0]))
    assert ratios([dict(emu, target="emulator"), base])["amqtt"]["latency_p50"] == 10.0
    assert not ok(dict(emu, storage={"stored": 1, "missing": 1, "duplicates": 0}))


def test_missing_mosquitto_is_a_clear_error(monkeypatch, tmp_path, capsys) -> None:
    from bench import cli

    monkeypatch.setattr(cli, "MOSQUITTO", str(tmp_path / "no-mosquitto"))
    status = cli.main(["--targets", "mosquitto", "--duration", "1", "--out", str(tmp_path)])
    assert status != 0
    err = capsys.readouterr().err
    assert "apt-get install mosquitto" in err and "Traceback" not in err
