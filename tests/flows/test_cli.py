"""The `datalever flows` and `datalever align` commands, end to end."""

from __future__ import annotations

import json
from pathlib import Path

from protego import Protego
from typer.testing import CliRunner

from datalever.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "flows"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_trace_json_and_image(tmp_path):
    image = tmp_path / "se.png"
    result = run("flows", "trace", "stack-exchange", "--json", "--image", str(image))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    shares = {m["model"]: m["share_low"] for m in data["models"]}
    assert abs(shares["llama-65b"] - 0.02) < 1e-12
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "so.svg"
    assert run("flows", "trace", "stack-overflow", "--image", str(svg)).exit_code == 0
    assert "<svg" in svg.read_text()


def test_trace_table_with_user_flows():
    result = run("flows", "trace", "bicycles-se", "--flows", str(EXAMPLES / "flows-bicycles.toml"))
    assert result.exit_code == 0, result.output
    assert "LLaMA 65B" in result.output


def test_whatif_text_and_json():
    result = run("flows", "whatif", "--withhold", "stack-exchange", "--model", "llama-65b")
    assert result.exit_code == 0, result.output
    assert "Chinchilla" in result.output and "Besiroglu" in result.output
    assert "AVERAGE loss" in result.output
    data = json.loads(run("flows", "whatif", "--withhold", "wikipedia", "--model", "gpt-3-175b", "--json").output)
    assert data["share_low"] == data["share_high"]
    assert data["effective_share_low"] < data["share_low"]  # 3.4 epochs: each token worth less


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    image = tmp_path / "never.png"
    result = run("flows", "trace", "stack-exchang", "--image", str(image))
    assert result.exit_code == 2
    assert "unknown node 'stack-exchang'" in result.output
    assert not image.exists()
    result = run("flows", "trace", "reddit", "--image", str(tmp_path / "x.jpg"))
    assert result.exit_code == 2 and ".png or .svg" in result.output
    result = run("flows", "whatif", "--withhold", "reddit", "--model", "gpt-9")
    assert result.exit_code == 2 and "unknown node 'gpt-9'" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[edges]]\nfrom = "a"\n')
    result = run("flows", "trace", "reddit", "--flows", str(bad), "--image", str(image))
    assert result.exit_code == 2 and "bad.toml" in result.output
    assert not image.exists()


def test_prefs_export_round_trip(tmp_path):
    out = tmp_path / "robots.txt"
    result = run(
        "flows",
        "prefs",
        "export",
        "--prefs",
        str(EXAMPLES / "prefs-bicycles.toml"),
        "--format",
        "robots",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    parser = Protego.parse(out.read_text())
    url = "https://bicycles.stackexchange.com/questions/1"
    assert parser.can_fetch(url, "AI2Bot") is True  # funds the pool
    assert parser.can_fetch(url, "GPTBot") is False
    assert parser.can_fetch(url, "CCBot") is True
    assert parser.can_fetch(url, "ChatGPT-User") is True
    tdm = json.loads(
        run("flows", "prefs", "export", "--prefs", str(EXAMPLES / "prefs-bicycles.toml"), "--format", "tdmrep").output
    )
    assert tdm[0]["tdm-reservation"] == 1
    aitxt = run("flows", "prefs", "export", "--prefs", str(EXAMPLES / "prefs-bicycles.toml"), "--format", "aitxt")
    assert "Disallow: /questions/" in aitxt.output
    assert run("flows", "prefs", "check", "--prefs", str(EXAMPLES / "prefs-bicycles.toml")).exit_code == 0


def test_align_report(tmp_path):
    plot = tmp_path / "trend.png"
    inputs = str(EXAMPLES / "alignment-inputs.toml")
    result = run(
        "align", "report", "--inputs", inputs, "--system", "llama-65b", "--month", "2026-11", "--plot", str(plot)
    )
    assert result.exit_code == 0, result.output
    assert "75.0%" in result.output
    assert plot.exists()
    data = json.loads(run("align", "report", "--inputs", inputs, "--system", "llama-65b", "--json").output)
    assert len(data["concentration"]) == 4
    bad = run("align", "report", "--inputs", inputs, "--system", "llama-65b", "--month", "Nov")
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


def test_bad_preferences_or_inputs_write_nothing(tmp_path):
    prefs = tmp_path / "prefs.toml"
    prefs.write_text('coalition = "b"\n[[rules]]\nagent = "GPTBott"\ndecision = "deny"\n')
    out = tmp_path / "robots.txt"
    result = run("flows", "prefs", "export", "--prefs", str(prefs), "--format", "robots", "-o", str(out))
    assert result.exit_code == 2 and "did you mean 'GPTBot'" in result.output
    assert not out.exists()
    inputs = tmp_path / "inputs.toml"
    inputs.write_text('[[coalitions]]\nid = "a"\n[[members]]\nid = "m"\ncoalition = "zz"\n')
    plot = tmp_path / "trend.png"
    result = run("align", "report", "--inputs", str(inputs), "--system", "llama-65b", "--plot", str(plot))
    assert result.exit_code == 2 and "unknown coalition 'zz'" in result.output
    assert not plot.exists()
    policy = tmp_path / "policy.toml"
    policy.write_text("[alignment]\naware_within_days = -1\n")
    good_inputs = str(EXAMPLES / "alignment-inputs.toml")
    result = run("align", "report", "--inputs", good_inputs, "--system", "llama-65b", "--policy", str(policy))
    assert result.exit_code == 2 and "policy.toml" in result.output
