"""Helpers for tests that sign approvals and reviews: throwaway ed25519 keys and handouts/approvers lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

from handoutkit.content.settings import Project


def new_key(folder: Path, name: str) -> Path:
    """A fresh private key (no passphrase) at folder/name, its public key beside it as name.pub."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
    return path


def allow(project: Project, key: Path, principal: str, namespaces: str | None = None) -> None:
    """Add the key's public half to handouts/approvers (allowed_signers format)."""
    keytype, public = (key.with_name(key.name + ".pub")).read_text().split()[:2]
    options = f' namespaces="{namespaces}"' if namespaces else ""
    approvers = project.handouts_dir / "approvers"
    before = approvers.read_text() if approvers.exists() else ""
    approvers.write_text(f"{before}{principal}{options} {keytype} {public}\n")


def approver(project: Project, name: str = "jane", namespaces: str | None = None) -> Path:
    """A key for `name`, allowed in the project's handouts/approvers; keys live beside the project.
    Asked again for the same name, the same key."""
    key = project.root.parent / "keys" / name
    if key.exists():
        return key
    key = new_key(key.parent, name)
    allow(project, key, f"{name}@clinic.example", namespaces)
    return key
