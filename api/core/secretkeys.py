"""Encryption keys for personal data at rest (face embeddings, phone numbers): each from an environment
variable, else from a key file of its own beside the data, made on the first start.

A key is a file of its own, never in the database: a copy of the data must not carry the key that opens
it, and the key must be backed up apart from the data (without it the data cannot be read).

Example:
    >>> import tempfile
    >>> key = SecretKey(env="SITEWATCH_DOCTEST_KEY", filename="doctest.key", what="doctest data")
    >>> _ = key.use_file(Path(tempfile.mkdtemp()))
    >>> key.decrypt(key.encrypt(b"13800138000"))
    b'13800138000'
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session, sessionmaker

from api.core.errors import UnavailableError

logger = logging.getLogger(__name__)


class MissingKeyError(UnavailableError, RuntimeError):
    """Data cannot be stored or read without its key (answered with 503)."""


class FaceKeyError(MissingKeyError):
    """Face data cannot be stored or read without the encryption key (answered with 503)."""


class SecretKey:
    """One Fernet key: ``env`` when set, else the file ``filename`` in the data directory.

    Args:
        env: the environment variable that holds the key (a Fernet key).
        filename: the key file's name in the data directory, used when ``env`` is not set.
        what: what the key protects, for log lines and errors.
    """

    def __init__(
        self, *, env: str, filename: str, what: str, error: type[MissingKeyError] = MissingKeyError
    ) -> None:
        self.env = env
        self.filename = filename
        self.what = what
        self.error = error
        self.file: Path | None = None

    def use_file(self, data_dir: Path) -> Path | None:
        """Use, in this process, the key kept in ``data_dir/filename`` whenever the variable is not set,
        creating it (mode 0600) on the first start; its path, or ``None`` when the variable is set."""
        path = Path(data_dir) / self.filename
        self.file = path
        if os.environ.get(self.env):
            return None
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                return path
            with os.fdopen(fd, "w") as fh:
                fh.write(Fernet.generate_key().decode())
            logger.warning(
                "created the key for %s, %s (%s is not set): back it up apart from the data; without it "
                "the %s cannot be read",
                self.what,
                path,
                self.env,
                self.what,
            )
        else:
            logger.info(
                "%s is encrypted with the key in %s (back it up apart from the data)", self.what, path
            )
        return path

    def cipher(self) -> Fernet:
        """The cipher: the variable's key, else the key file's.

        Raises:
            MissingKeyError: no key, or not a valid one (the class given as ``error``).
        """
        key = os.environ.get(self.env)
        if not key and self.file is not None and self.file.exists():
            key = self.file.read_text().strip()
        if not key:
            raise self.error(f"{self.env} is not set: {self.what} is only stored encrypted")
        try:
            return Fernet(key.encode())
        except ValueError as exc:
            raise self.error(f"{self.env} is not a valid Fernet key") from exc

    def encrypt(self, data: bytes) -> bytes:
        """``data`` encrypted (a Fernet token)."""
        return self.cipher().encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        """The data of a token.

        Raises:
            MissingKeyError: the key is missing or is not the one the token was made with.
        """
        try:
            return self.cipher().decrypt(token)
        except InvalidToken as exc:
            raise self.error(f"{self.env} does not decrypt the stored {self.what}") from exc


FACE_KEY_ENV = "SITEWATCH_FACE_KEY"
PII_KEY_ENV = "SITEWATCH_PII_KEY"
#: Where a session's factory keeps the app's :class:`DataKeys` (see :func:`data_keys`).
KEYS_INFO = "data_keys"


@dataclass(frozen=True)
class DataKeys:
    """The keys of one app's personal data, each from its variable, else from its file in the app's data
    directory: ``face`` for face embeddings (``SITEWATCH_FACE_KEY``, ``face.key``), ``pii`` for other
    personal data such as projects' contact phone numbers (``SITEWATCH_PII_KEY``, ``pii.key``).

    They belong to an app, not to the process: two apps in one process (tests, a bench beside an API) keep
    their own key files. Code that holds a session reaches them through :func:`data_keys`.
    """

    face: SecretKey
    pii: SecretKey

    @classmethod
    def in_dir(cls, data_dir: Path | None) -> DataKeys:
        """The keys of the app whose data lives in ``data_dir``, each key file made on first use when its
        variable is not set; with ``None``, the variables only."""
        keys = cls(
            face=SecretKey(env=FACE_KEY_ENV, filename="face.key", what="face data", error=FaceKeyError),
            pii=SecretKey(env=PII_KEY_ENV, filename="pii.key", what="personal data"),
        )
        if data_dir is not None:
            keys.face.use_file(data_dir)
            keys.pii.use_file(data_dir)
        return keys


def data_keys(source: Session | sessionmaker[Session]) -> DataKeys:
    """The data keys of the app a session (or a session factory) belongs to; a factory made without them
    (a CLI, a helper process) reads the keys from the environment only.

    >>> from sqlalchemy import create_engine
    >>> data_keys(sessionmaker(create_engine("sqlite://"))).pii.env
    'SITEWATCH_PII_KEY'
    """
    info = source.info if isinstance(source, Session) else source.kw.get("info", {})
    keys = info.get(KEYS_INFO)
    return keys if isinstance(keys, DataKeys) else DataKeys.in_dir(None)
