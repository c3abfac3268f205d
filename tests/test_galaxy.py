"""The tarball as Galaxy gets it: only what users need, one licence, declared dependencies, a clean import."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, clean_env

# Every file of the tarball matches one of these ('*' stays within one path segment).
SHIPPED = [
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "CHANGELOG.rst",
    "changelogs/changelog.yaml",
    "meta/runtime.yml",
    "playbooks/*.yml",
    "plugins/action/*.py",
    "plugins/modules/*.py",
    "plugins/module_utils/*.py",
    "plugins/plugin_utils/*.py",
    "plugins/filter/*.py",
    "plugins/filter/*.yml",  # the filters' documentation
    "inventories/*/*aws_ec2.yml",
    "roles/*/README.md",
    "roles/*/defaults/main.yml",
    "roles/*/handlers/main.yml",
    "roles/*/meta/main.yml",
    "roles/*/meta/argument_specs.yml",
    "roles/*/tasks/*.yml",
    "roles/*/vars/*.yml",
    "roles/*/templates/*.j2",
    "roles/*/files/*",
    "examples/hello_streamlit/streamlit_app.py",
    "examples/hello_streamlit/requirements.txt",
    "examples/penguins/*.py",
    "examples/penguins/requirements.txt",
    "examples/penguins/model.pkl",
    "examples/awx_project/README.md",
    "examples/awx_project/ansible.cfg",
    "examples/awx_project/collections/requirements.yml",
    "examples/awx_project/credential_types/*.json",
    "examples/awx_project/survey_*.json",
    "examples/awx_project/inventory_source.json",
    "examples/awx_project/execution-environment.yml",
    "examples/awx_project/requirements.txt",
    "examples/awx_project/bindep.txt",
]
LICENCE = "GPL-3.0-or-later"
SPDX_LINE = f"# SPDX-License-Identifier: {LICENCE}"
# Stands in for the repository URL Galaxy requires, until the project has a public home (DEVELOPMENT.md).
REPOSITORY_STAND_IN = "https://example.invalid/streamlit_ops/deploy"


def glob_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join("[^/]*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern)))


def tarball_files(tarball: Path) -> list[str]:
    with tarfile.open(tarball) as archive:
        return [member.name for member in archive.getmembers() if not member.isdir()]


def manifest(tarball: Path) -> dict[str, object]:
    with tarfile.open(tarball) as archive:
        handle = archive.extractfile("MANIFEST.json")
        assert handle is not None
        info: dict[str, object] = json.load(handle)["collection_info"]
        return info


def test_tarball_holds_only_what_users_need(collection_tarball: Path) -> None:
    allowed = [glob_regex(pattern) for pattern in SHIPPED]
    unexpected = [name for name in tarball_files(collection_tarball) if not any(r.fullmatch(name) for r in allowed)]
    assert unexpected == []


def test_tarball_holds_the_roles_playbooks_plugins_and_licence(collection_tarball: Path) -> None:
    files = set(tarball_files(collection_tarball))
    for name in ("LICENSE", "CHANGELOG.rst", "playbooks/site.yml", "plugins/modules/converged.py"):
        assert name in files
    for role in ("ec2_launch", "miniconda", "streamlit_app", "tmux_service"):
        assert f"roles/{role}/meta/argument_specs.yml" in files


def test_licence_is_gpl3_or_later_everywhere(collection_tarball: Path) -> None:
    assert (REPO / "LICENSE").read_text().split()[:6] == ["GNU", "GENERAL", "PUBLIC", "LICENSE", "Version", "3,"]
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert galaxy["license"] == [LICENCE]
    assert "license_file" not in galaxy
    assert manifest(collection_tarball)["license"] == [LICENCE]
    for meta in sorted(REPO.glob("roles/*/meta/main.yml")):
        assert yaml.safe_load(meta.read_text())["galaxy_info"]["license"] == LICENCE, meta
    for source in sorted(REPO.glob("plugins/**/*.py")):
        assert SPDX_LINE in source.read_text().splitlines()[:5], source


# What names another collection at run time: a task's module, a filter, a lookup, an inventory plugin.
FQCN = r"([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+"
USES = [
    re.compile(rf"^\s*(?:- )?{FQCN}:", re.MULTILINE),
    re.compile(rf"\|\s*{FQCN}\b"),
    re.compile(rf"\b(?:lookup|query)\(\s*['\"]{FQCN}"),
    re.compile(rf"^plugin:\s*{FQCN}", re.MULTILINE),
    re.compile(rf"\bis\s+(?:not\s+)?{FQCN}\b"),
]
OWN = {"ansible.builtin", "ansible.legacy", "streamlit_ops.deploy"}


def collections_used() -> set[str]:
    sources = [*REPO.glob("roles/**/*.yml"), *REPO.glob("playbooks/*.yml"), *REPO.glob("inventories/**/*.yml")]
    found = {match for path in sources for regex in USES for match in regex.findall(path.read_text())}
    imports = re.compile(r"ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\.")
    for path in REPO.glob("plugins/**/*.py"):
        found |= {".".join(names) for names in imports.findall(path.read_text())}
    return found - OWN


def test_galaxy_declares_every_collection_the_code_uses_and_no_other() -> None:
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert set(galaxy["dependencies"]) == collections_used()


@pytest.mark.parametrize("dependency", sorted(yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"]))
def test_dependency_range_admits_the_version_the_pinned_ansible_bundles(dependency: str) -> None:
    import ansible_collections  # the `ansible` package's bundled collections

    namespace, name = dependency.split(".")
    bundled = Path(ansible_collections.__path__[0]) / namespace / name / "MANIFEST.json"
    version = json.loads(bundled.read_text())["collection_info"]["version"]
    wanted = yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"][dependency]
    low, high = (bound.lstrip(">=<") for bound in wanted.split(","))
    assert version_tuple(low) <= version_tuple(version) < version_tuple(high)


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_readme_links_only_to_what_the_tarball_holds(collection_tarball: Path) -> None:
    files = set(tarball_files(collection_tarball))
    readme = (REPO / "README.md").read_text()
    targets = {link.split("#")[0] for link in re.findall(r"\]\(([^)\s]+)\)", readme)}
    local = {target.rstrip("/") for target in targets if target and "://" not in target}
    missing = [t for t in sorted(local) if t not in files and not any(f.startswith(f"{t}/") for f in files)]
    assert missing == []


@pytest.mark.parametrize("document", ["README.md", "DEVELOPMENT.md", "examples/awx_project/README.md"])
def test_documents_link_to_files_that_exist(document: str) -> None:
    path = REPO / document
    targets = {link.split("#")[0] for link in re.findall(r"\]\(([^)\s]+)\)", path.read_text())}
    missing = [t for t in sorted(targets) if t and "://" not in t and not (path.parent / t).exists()]
    assert missing == []


def importable(tarball: Path, destination: Path) -> Path:
    """The tarball with a repository URL in its MANIFEST.json if galaxy.yml has none (Galaxy requires one)."""
    with tarfile.open(tarball) as source, tarfile.open(destination, "w:gz") as target:
        for member in source.getmembers():
            handle = source.extractfile(member) if member.isfile() else None
            if member.name == "MANIFEST.json" and handle is not None:
                document = json.load(handle)
                document["collection_info"]["repository"] = (
                    document["collection_info"]["repository"] or REPOSITORY_STAND_IN
                )
                data = json.dumps(document, indent=4).encode()
                member.size = len(data)
                handle = io.BytesIO(data)
            target.addfile(member, handle)
    return destination


def test_galaxy_importer_imports_the_tarball_without_a_warning(collection_tarball: Path, tmp_path: Path) -> None:
    tarball = importable(collection_tarball, tmp_path / collection_tarball.name)
    result = subprocess.run(
        [sys.executable, "-m", "galaxy_importer.main", str(tarball)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(HOME=str(tmp_path)),  # its ansible-lint and ansible-doc see no user configuration
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Importer processing completed successfully" in output
    flagged = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert flagged == [], output
