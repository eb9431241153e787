"""Reading stack files the way the Pulumi CLI passes config to a program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.spec import StackFileError, read_stack_file
from components.spec.stackfile import SECRET_PLACEHOLDER


def write(tmp_path: Path, text: str, name: str = "s") -> Path:
    (tmp_path / f"Pulumi.{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_values_become_cli_strings(tmp_path: Path) -> None:
    stack = read_stack_file(
        write(
            tmp_path,
            "config:\n  slm-deploy:target: docker\n  slm-deploy:flag: true\n  slm-deploy:n: 3\n"
            "  slm-deploy:models: [{name: a}]\n  aws:region: x\n  bare: 1\n",
        ),
        "s",
    )
    assert stack.config == {
        "slm-deploy:target": "docker",
        "slm-deploy:flag": "true",
        "slm-deploy:n": "3",
        "slm-deploy:models": json.dumps([{"name": "a"}]),
        "aws:region": "x",
        "slm-deploy:bare": "1",
    }
    assert stack.secret_keys == []


def test_secure_values_are_never_decrypted(tmp_path: Path) -> None:
    text = (
        "config:\n  slm-deploy:secrets:\n    hfToken:\n      secure: v1:AAAA\n    plain: x\n"
        "  slm-deploy:apiKey:\n    secure: v1:BBBB\n"
    )
    stack = read_stack_file(write(tmp_path, text), "s")
    assert stack.secret_keys == ["slm-deploy:apiKey", "slm-deploy:secrets"]
    assert json.loads(stack.config["slm-deploy:secrets"]) == {"hfToken": SECRET_PLACEHOLDER, "plain": "x"}
    assert stack.config["slm-deploy:apiKey"] == SECRET_PLACEHOLDER
    assert "v1:" not in json.dumps(stack.config)


def test_unknown_stack_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "config: {}\n", name="local")
    with pytest.raises(StackFileError, match=r"Pulumi\.nope\.yaml: no such stack file \(known stacks: local\)"):
        read_stack_file(tmp_path, "nope")


def test_unparsable_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match=r"not valid YAML at line 4"):
        read_stack_file(write(tmp_path, "config:\n  a: b\n  c: [\n"), "s")


def test_config_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match="expected a mapping"):
        read_stack_file(write(tmp_path, "config: [1, 2]\n"), "s")
