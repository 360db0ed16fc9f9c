"""Encryption of team secrets with Fernet (the `cryptography` library): AES-128-CBC with an
HMAC-SHA256, keys from `AGENT_FACTORY_SECRETS_KEY` (comma-separated: the first encrypts, all
decrypt, so keys can be rotated). Each plaintext is bound to its team and name, so a ciphertext
copied to another row or team does not decrypt there."""

from __future__ import annotations

import os
from uuid import UUID

from ..errors import PlatformError

KEY_ENV = "AGENT_FACTORY_SECRETS_KEY"


class SecretsUnavailable(PlatformError):
    status = 503
    code = "unavailable"


class Vault:
    """Encrypts and decrypts team secrets with the server's keys."""

    def __init__(self, keys: list[str]) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        try:
            self.fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        except ValueError:
            raise SecretsUnavailable(f"{KEY_ENV} must hold Fernet keys (Fernet.generate_key()), comma-separated") from None

    @classmethod
    def from_environment(cls) -> Vault | None:
        """The vault of `AGENT_FACTORY_SECRETS_KEY`, or None when it is not set."""
        keys = [k for k in os.environ.get(KEY_ENV, "").split(",") if k.strip()]
        return cls(keys) if keys else None

    def seal(self, team_id: UUID, name: str, value: str) -> bytes:
        return self.fernet.encrypt(_bound(team_id, name) + value.encode("utf-8"))

    def open(self, team_id: UUID, name: str, sealed: bytes) -> str | None:
        """The value, or None when it does not decrypt as this team's secret of this name."""
        from cryptography.fernet import InvalidToken

        try:
            plain = self.fernet.decrypt(bytes(sealed))
        except InvalidToken:
            return None
        prefix = _bound(team_id, name)
        return plain[len(prefix):].decode("utf-8") if plain.startswith(prefix) else None


def _bound(team_id: UUID, name: str) -> bytes:
    return f"{team_id}\x00{name}\x00".encode()


def require(vault: Vault | None) -> Vault:
    if vault is None:
        raise SecretsUnavailable(f"this server stores no secrets: set {KEY_ENV} (a Fernet key) where it runs")
    return vault
