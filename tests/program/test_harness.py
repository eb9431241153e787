"""The mock harness itself: it must fail loudly where Pulumi's mocks would stay silent."""

from __future__ import annotations

import pulumi
import pulumi_random as random
import pytest

from components.render import DuplicateResourceError, run_program


def test_a_false_assertion_inside_apply_fails_the_run() -> None:
    def program() -> pulumi.Output[None]:
        password = random.RandomPassword("key", length=8)

        def check(length: int) -> None:
            assert length == 9, "deliberately false"

        return password.length.apply(check)

    with pytest.raises(AssertionError, match="deliberately false"):
        run_program(program, {})


def test_a_true_assertion_inside_apply_passes() -> None:
    seen: list[int] = []

    def program() -> pulumi.Output[None]:
        return random.RandomPassword("key", length=8).length.apply(seen.append)

    run_program(program, {})
    assert seen == [8]


def test_duplicate_resource_names_are_detected() -> None:
    def program() -> None:
        random.RandomPassword("same", length=8)
        random.RandomPassword("same", length=8)

    with pytest.raises(DuplicateResourceError, match="RandomPassword::same"):
        run_program(program, {})


def test_computed_outputs_are_filled_and_secret() -> None:
    def program() -> None:
        pulumi.export("key", random.RandomPassword("key", length=8).result)

    recording = run_program(program, {})
    assert recording.outputs["key"] == "<key.result>"
    assert recording.secret_outputs == {"key"}
    assert recording.masked_outputs() == {"key": "[secret]"}


def test_secret_inputs_are_masked_in_the_recording() -> None:
    def program() -> None:
        config = pulumi.Config("slm-deploy")
        random.RandomString("salt", length=8, keepers={"token": config.require_secret("token")})

    recording = run_program(program, {"slm-deploy:token": "s3cr3t-value"}, ["slm-deploy:token"])
    # Pulumi marks the whole property secret when any part of it is.
    assert recording.named("salt").inputs["keepers"] == "[secret]"
    assert recording.named("salt").inputs["length"] == 8
    assert "s3cr3t-value" not in repr(recording.resources)


def test_runs_are_isolated_and_not_previews() -> None:
    def program() -> None:
        assert not pulumi.runtime.is_dry_run()
        pulumi.export("stack", pulumi.get_stack())
        random.RandomPassword("only", length=8)

    first = run_program(program, {}, stack="one")
    second = run_program(program, {}, stack="two")
    assert [r.name for r in first.resources] == ["only"]
    assert [r.name for r in second.resources] == ["only"]
    assert (first.outputs["stack"], second.outputs["stack"]) == ("one", "two")
