"""What the check looks at: the files of a render folder and the Dockerfiles of the repository.

The layout of a render folder is the contract with the targets (folders may be absent):
``plan.json``, ``kubernetes/*.yaml`` (one object per file), ``docker/*.yaml``,
``observability/prometheus/prometheus.yml``, ``observability/prometheus/rules/*.yml``,
``observability/prometheus/tests/*.yml``, ``observability/alertmanager/alertmanager.yml``,
``azure/*.yaml``.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HELM_SUMMARIES = "_helm"
YAML_SUFFIXES = (".yaml", ".yml")

#: Folders never searched for Dockerfiles: tool caches, virtualenvs, renders, and the check
#: fixtures (deliberately bad files, checked only when a test points ``--from`` at them).
PRUNED_DIRS = {".git", "build", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
PRUNED_PREFIXES = (".venv",)
FIXTURES = Path("tests") / "checks" / "fixtures"


def _files(folder: Path, suffixes: tuple[str, ...] = YAML_SUFFIXES) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes)


def is_dockerfile(name: str) -> bool:
    """Dockerfile, Dockerfile.<variant>, <name>.Dockerfile (any case of "dockerfile")."""
    lowered = name.lower()
    return fnmatch.fnmatch(lowered, "dockerfile*") or lowered.endswith(".dockerfile")


def find_dockerfiles(root: Path, prune_fixtures: bool = True) -> list[Path]:
    """Every Dockerfile under ``root``, skipping virtualenvs, build output and fixtures."""
    found: list[Path] = []
    for current, dirs, files in os.walk(root):
        here = Path(current)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in PRUNED_DIRS
            and not d.startswith(PRUNED_PREFIXES)
            and not (prune_fixtures and (here / d).relative_to(root) == FIXTURES)
        )
        found += [here / f for f in sorted(files) if is_dockerfile(f)]
    return found


@dataclass(frozen=True)
class KubeObject:
    """One Kubernetes object of the render, with the file it came from."""

    file: str
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind", "?"))

    @property
    def api_version(self) -> str:
        return str(self.doc.get("apiVersion", "?"))

    @property
    def label(self) -> str:
        """``Kind/namespace/name`` (namespace omitted for cluster-scoped objects)."""
        meta = self.doc.get("metadata") or {}
        parts = [self.kind, str(meta.get("namespace", "")), str(meta.get("name", "?"))]
        return "/".join(p for p in parts if p)


@dataclass(frozen=True)
class Inputs:
    """A render folder plus the Dockerfiles to check, with display paths for findings."""

    render: Path
    repo: Path | None = None
    dockerfiles: list[Path] = field(default_factory=list)

    @classmethod
    def gather(cls, render: Path, repo: Path | None) -> Inputs:
        dockerfiles = find_dockerfiles(repo) if repo else []
        inside = [p for p in find_dockerfiles(render, prune_fixtures=False) if p not in dockerfiles]
        return cls(render=render, repo=repo, dockerfiles=sorted({*dockerfiles, *inside}))

    def show(self, path: Path | str) -> str:
        """A path as findings print it: relative to the render, else to the repository."""
        resolved = Path(path).resolve()
        for base in (self.render, self.repo):
            if base is not None:
                try:
                    return str(resolved.relative_to(base.resolve()))
                except ValueError:
                    continue
        return str(path)

    @property
    def plan(self) -> Path:
        return self.render / "plan.json"

    @property
    def kubernetes_files(self) -> list[Path]:
        """Kubernetes objects; ``kubernetes/_helm/`` holds readable Helm release summaries, not objects."""
        folder = self.render / "kubernetes"
        return [p for p in _files(folder) if HELM_SUMMARIES not in p.relative_to(folder).parts]

    @property
    def prometheus_configs(self) -> list[Path]:
        folder = self.render / "observability" / "prometheus"
        return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix in YAML_SUFFIXES)

    @property
    def rule_files(self) -> list[Path]:
        return _files(self.render / "observability" / "prometheus" / "rules")

    @property
    def rule_tests(self) -> list[Path]:
        return _files(self.render / "observability" / "prometheus" / "tests")

    @property
    def alertmanager_configs(self) -> list[Path]:
        return _files(self.render / "observability" / "alertmanager")

    @property
    def yaml_files(self) -> list[Path]:
        return _files(self.render)

    def kubernetes_objects(self) -> tuple[list[KubeObject], list[tuple[str, str]]]:
        """The objects of ``kubernetes/``, and (file, error) for files that do not parse."""
        objects: list[KubeObject] = []
        errors: list[tuple[str, str]] = []
        for path in self.kubernetes_files:
            shown = self.show(path)
            try:
                docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
            except yaml.YAMLError as exc:
                errors.append((shown, " ".join(str(exc).split())))
                continue
            for doc in docs:
                if isinstance(doc, dict):
                    objects.append(KubeObject(shown, doc))
                else:
                    errors.append((shown, "not a Kubernetes object (expected a mapping)"))
        return objects, errors
