"""Generated tracking credentials and their hashes."""

import hashlib
import hmac
import secrets

# No look-alikes: no 0/O, 1/l/I.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
PASSWORD_LENGTH = 14  # 31**14 ≈ 2**69


def generate_username() -> str:
    return "ms" + "".join(secrets.choice(ALPHABET) for _ in range(10))


def generate_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LENGTH))


def hash_token(token: str) -> str:
    """For random secrets of 64+ bits a fast hash suffices: there is nothing to guess."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(hash_token(token), stored_hash)
