"""Signed records: approvals and translation reviews that prove who made them.

A record (a handout's clinical approval, a locale's translation review) is a
small YAML mapping. `handouts approve ... --key PATH` and `handouts review ...
--key PATH` sign it with the person's own SSH key (`ssh-keygen -Y sign`, the
same mechanism git uses for signed commits); the signature is stored in the
record under `signature:`. What is signed is the canonical JSON of every
other field of the record, so editing any of them afterwards breaks it.

Who may sign what is the clinic's list `handouts/approvers`, in OpenSSH
allowed_signers format (man ssh-keygen, "ALLOWED SIGNERS"), one person a line:

    jane.doe@clinic.example namespaces="handouts-approve" ssh-ed25519 AAAA...
    ana.ruiz@clinic.example namespaces="handouts-review-es,handouts-review-pt" ssh-ed25519 AAAA...
    lead@clinic.example ssh-ed25519 AAAA...            (no options: may sign anything)

The namespace says what a signature is for: `handouts-approve` for the
English of a handout, `handouts-review-<locale>` for a locale's review.
Verification (`ssh-keygen -Y verify`) needs only those public keys, so it
works offline and in CI. It fails closed: an unsigned record, a signature by
a key not on the list or not allowed that namespace, a record edited after
signing, or no ssh-keygen at all, each count as no record, with the reason.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from handoutkit.errors import HandoutError

APPROVERS_FILE = "approvers"  # handouts/approvers: who may sign, in allowed_signers format
APPROVAL_NAMESPACE = "handouts-approve"
SIGNATURE_FIELD = "signature"
TIMEOUT = 30  # seconds for one ssh-keygen call


def review_namespace(locale: str) -> str:
    """The namespace a reviewer of `locale` must be allowed in handouts/approvers."""
    return f"handouts-review-{locale}"


@dataclass(frozen=True)
class Verification:
    """Who signed a record, or why it does not count."""

    signer: str | None  # the principal (first field of handouts/approvers) whose key signed it
    problem: str = ""  # empty when the signature holds

    @property
    def ok(self) -> bool:
        return not self.problem


def _plain(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"cannot sign a {type(value).__name__}")


def signed_bytes(record: dict) -> bytes:
    """What a signature covers: every field of the record but the signature, as canonical JSON."""
    fields = {key: value for key, value in record.items() if key != SIGNATURE_FIELD}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_plain).encode("utf-8")


class _RecordDumper(yaml.SafeDumper):
    """Writes multi-line strings (the armored signature) as a literal block, readable in a diff."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_RecordDumper.add_representer(str, _represent_str)


def dump_record(record: dict, sort_keys: bool = False) -> str:
    """The YAML text of a signed record (what yaml.safe_load reads back the same)."""
    return yaml.dump(record, Dumper=_RecordDumper, sort_keys=sort_keys, allow_unicode=True, width=100)


def _ssh_keygen() -> str | None:
    return shutil.which("ssh-keygen")


def _run(args: list[str], data: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=data, capture_output=True, timeout=TIMEOUT, check=False)


def sign(record: dict, key: Path, namespace: str) -> str:
    """The armored SSH signature of `record` by the private key at `key` (a clean error when it cannot)."""
    program = _ssh_keygen()
    if program is None:
        raise HandoutError("signing needs ssh-keygen (OpenSSH 8.2 or later); install openssh-client")
    if not Path(key).is_file():
        raise HandoutError(f"{key}: no such key file; --key takes the signer's private SSH key "
                           "(make one with `ssh-keygen -t ed25519 -f PATH`)")
    result = _run([program, "-Y", "sign", "-q", "-f", str(key), "-n", namespace], signed_bytes(record))
    signature = result.stdout.decode("ascii", "replace")
    if result.returncode != 0 or "BEGIN SSH SIGNATURE" not in signature:
        detail = " ".join(result.stderr.decode("utf-8", "replace").split()) or f"exit status {result.returncode}"
        raise HandoutError(f"{key}: could not sign with this key ({detail})")
    return signature.strip() + "\n"


def verify(record: dict, namespace: str, approvers: Path, approvers_label: str = "handouts/approvers"
           ) -> Verification:
    """Check the record's signature against the allowed signers in `approvers` for `namespace`."""
    signature = record.get(SIGNATURE_FIELD)
    if not signature:
        return Verification(None, "not signed (sign it with --key, see docs/clinicians.md)")
    if not isinstance(signature, str):
        return Verification(None, "the signature is not an SSH signature")
    try:
        allowed = approvers.read_bytes()
    except FileNotFoundError:
        return Verification(None, f"no {approvers_label} lists who may sign")
    except OSError as exc:
        return Verification(None, f"{approvers_label}: unreadable ({exc})")
    return _verify(signed_bytes(record), signature, namespace, allowed, approvers_label)


@functools.lru_cache(maxsize=256)
def _verify(data: bytes, signature: str, namespace: str, allowed: bytes, label: str) -> Verification:
    # Cached: the build, lint and the catalog look at the same records several times a run.
    program = _ssh_keygen()
    if program is None:
        return Verification(None, "cannot verify the signature: ssh-keygen (OpenSSH) is not installed")
    with tempfile.TemporaryDirectory(prefix="handouts-sig-") as tmp:
        sig_path, allowed_path = Path(tmp) / "record.sig", Path(tmp) / "approvers"
        sig_path.write_text(signature, "ascii", errors="replace")
        allowed_path.write_bytes(allowed)
        checked = _run([program, "-Y", "check-novalidate", "-n", namespace, "-s", str(sig_path)], data)
        if checked.returncode != 0:
            return Verification(None, "the signature does not match the record (edited after it was signed, "
                                      f"or signed for another purpose than {namespace!r})")
        found = _run([program, "-Y", "find-principals", "-s", str(sig_path), "-f", str(allowed_path)], b"")
        principals = [line.strip() for line in found.stdout.decode("utf-8", "replace").splitlines()
                      if line.strip()] if found.returncode == 0 else []
        if not principals:
            return Verification(None, f"signed by a key that is not in {label}")
        for principal in principals:
            verified = _run([program, "-Y", "verify", "-f", str(allowed_path), "-I", principal,
                             "-n", namespace, "-s", str(sig_path)], data)
            if verified.returncode == 0:
                return Verification(principal)
        return Verification(principals[0], f"{', '.join(principals)} may not sign {namespace!r} "
                                           f"(namespaces= in {label})")
