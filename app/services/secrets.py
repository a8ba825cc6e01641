"""Generated tracking credentials and their hashes."""

import hashlib
import hmac
import secrets

# No look-alikes: no 0/O, 1/l/I.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
PASSWORD_LENGTH = 14  # 31**14 ≈ 2**69


_UNIFORM_BELOW = 256 - 256 % len(ALPHABET)  # bytes under this map evenly onto the alphabet


def random_text(length: int) -> str:
    """`length` letters of ALPHABET, uniformly at random, from one read of the OS's CSPRNG
    (secrets.choice reads it once per letter: two dozen system calls per submission)."""
    letters: list[str] = []
    while len(letters) < length:
        for byte in secrets.token_bytes(2 * length):
            if byte < _UNIFORM_BELOW:
                letters.append(ALPHABET[byte % len(ALPHABET)])
                if len(letters) == length:
                    break
    return "".join(letters)


def generate_username() -> str:
    return "ms" + random_text(10)


def generate_password() -> str:
    return random_text(PASSWORD_LENGTH)


def hash_token(token: str) -> str:
    """For random secrets of 64+ bits a fast hash suffices: there is nothing to guess."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(hash_token(token), stored_hash)
