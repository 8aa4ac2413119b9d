"""Front desk, who is printing: desk accounts, or the user a trusted reverse proxy authenticated.

On loopback (the default bind) only this machine can connect and no sign-in is
asked. Any other bind is reachable from the LAN, so `handouts serve` refuses to
start unless desks sign in, one of two ways:

- desk accounts: `handouts desk-account NAME` stores NAME and a salted scrypt
  hash of its password (werkzeug.security) in STATE_DIR/desk-accounts (0600);
  the browser asks once (HTTP Basic; put TLS in front, see docs/operations.md);
- a reverse proxy that authenticates (SSO, client certificates) and passes the
  user in a header (`--auth-header X-Remote-User`), believed only on connections
  from `--trusted-proxy`.

The account name, not the address, is the desk in the print log.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from handoutkit.desk.lan import PEER
from handoutkit.errors import HandoutError
from handoutkit.files import atomic_write

ACCOUNTS_FILE = "desk-accounts"
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
MIN_PASSWORD = 10


def read_accounts(path: Path) -> dict[str, str]:
    """NAME -> password hash, from a desk-accounts file; HandoutError at file:line for a bad line."""
    accounts: dict[str, str] = {}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, digest = line.partition(":")
        if not ACCOUNT_NAME.fullmatch(name) or not digest.startswith(("scrypt:", "pbkdf2:")):
            raise HandoutError(f"{path}:{number}: expected NAME:HASH as written by `handouts desk-account`")
        accounts[name] = digest
    return accounts


def set_account(path: Path, name: str, password: str) -> bool:
    """Add a desk account or change its password; True when it is new. The file is 0600."""
    if not ACCOUNT_NAME.fullmatch(name):
        raise HandoutError(f"desk account {name!r}: use 1 to 40 letters, digits, '.', '_' or '-', such as desk-1")
    if len(password) < MIN_PASSWORD:
        raise HandoutError(f"the password is too short: at least {MIN_PASSWORD} characters")
    accounts = read_accounts(path) if path.exists() else {}
    new = name not in accounts
    accounts[name] = generate_password_hash(password)
    text = "# handoutkit desk accounts: NAME:scrypt hash (`handouts desk-account NAME` to add or change)\n"
    text += "".join(f"{n}:{h}\n" for n, h in sorted(accounts.items()))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, text.encode(), mode=0o600)
    return new


@dataclass
class DeskAuth:
    """How a request proves which desk it comes from."""

    accounts: dict[str, str] = field(default_factory=dict)
    header: str | None = None  # the proxy's authenticated-user header
    proxy: str | None = None  # the only peer whose header is believed
    _known: dict[str, str] = field(default_factory=dict, init=False)  # sha256(name:password) -> name
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def required(self) -> bool:
        return bool(self.accounts) or self.header is not None

    def user(self, environ: dict, authorization: tuple[str, str] | None) -> str | None:
        """The signed-in desk's name, or None."""
        if self.header is not None and environ.get(PEER) == self.proxy:
            value = environ.get("HTTP_" + self.header.upper().replace("-", "_"), "").strip()
            if value and ACCOUNT_NAME.fullmatch(value.split("@")[0]):
                return value[:80]
        if authorization is None or not self.accounts:
            return None
        name, password = authorization
        # scrypt costs ~50 ms: a desk's every request would pay it, so a checked pair is remembered
        # (as a hash, never the password itself) for the life of the process.
        key = hashlib.sha256(f"{name}\0{password}".encode()).hexdigest()
        with self._lock:
            if key in self._known:
                return self._known[key]
        digest = self.accounts.get(name)
        if digest is None:
            check_password_hash(generate_password_hash("x"), password)  # the same time for an unknown name
            return None
        if not check_password_hash(digest, password):
            return None
        with self._lock:
            self._known[key] = name
        return name


def load_auth(state_dir: Path, accounts_file: Path | None, header: str | None, proxy: str | None,
              loopback: bool, host: str) -> DeskAuth:
    """The desk sign-in for `serve`; HandoutError when a LAN bind would let anyone print."""
    if header is not None and proxy is None:
        raise HandoutError("--auth-header is believed only from the proxy: give its address with --trusted-proxy")
    path = accounts_file or state_dir / ACCOUNTS_FILE
    accounts = read_accounts(path) if path.exists() else {}
    auth = DeskAuth(accounts, header, proxy)
    if not loopback and not auth.required:
        raise HandoutError(
            f"--host {host} is reachable from other machines, so desks must sign in: add desk accounts with "
            "`handouts desk-account NAME` (stored hashed in STATE_DIR/desk-accounts), or put an authenticating "
            "reverse proxy in front and pass --trusted-proxy ADDR --auth-header X-Remote-User "
            "(see docs/operations.md)")
    return auth


# ---------------------------------------------------------------- form tokens

SECRET_FILE = "form-secret"
TOKEN_MAX_AGE = 24 * 3600  # a print form left open all day still prints; yesterday's does not
TOKEN_SALT = "handoutkit print form"


def load_secret(path: Path) -> bytes:
    """The secret that signs form tokens; made (0600, 32 random bytes) when missing.

    Servers behind one address share it (the same file, or a copy), so a form served by
    one prints on another; it outlives restarts, so an open page keeps working.
    """
    import secrets as random

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            with open(path, "x", encoding="ascii") as handle:  # two servers starting at once: one writes
                os.chmod(path, 0o600)
                handle.write(random.token_hex(32) + "\n")
        except FileExistsError:
            pass
    if path.stat().st_mode & 0o077:
        raise HandoutError(f"{path}: the form secret is readable by other users; `chmod 600 {path}`")
    secret = path.read_text("ascii", errors="replace").strip()
    if len(secret) < 32:
        raise HandoutError(f"{path}: expected the form secret (at least 32 characters), found {len(secret)}")
    return secret.encode()


class FormTokens:
    """Signed, timed tokens for the print form (itsdangerous), verifiable by any server with the secret."""

    def __init__(self, secret: bytes):
        from itsdangerous import URLSafeTimedSerializer

        self._serializer = URLSafeTimedSerializer(secret, salt=TOKEN_SALT)

    def new(self) -> str:
        return self._serializer.dumps("print")

    def valid(self, token: object) -> bool:
        from itsdangerous import BadSignature

        if not isinstance(token, str) or len(token) > 200:
            return False
        try:
            return self._serializer.loads(token, max_age=TOKEN_MAX_AGE) == "print"
        except BadSignature:  # SignatureExpired included
            return False
