"""Secure KV items: AES-256-OFB with caller-supplied key and IV (docs/alios-kv.md §10.5).

Upstream: AliOS-Things ``components/kv/src/kv_secure.c`` @871b538d. The fixed IV makes
every value share one keystream (KV-21): obfuscation, not confidentiality. ``cryptography``
(extra ``crypto``) is imported here, lazily.
"""

from __future__ import annotations

import errno

from ..errors import FlashError, NotSupported

__all__ = ["ofb_crypt", "EncryptError"]


class EncryptError(FlashError):
    """Key/IV provider failure (the reference's KV_ERR_ENCRYPT/DECRYPT, mapped to EBUSY)."""

    default_errno = errno.EBUSY


def _ofb_mode():
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    except ImportError as e:
        raise NotSupported("KV secure items need the 'cryptography' package "
                           "(pip install flashstack[crypto])") from e
    try:  # cryptography >= 48 moved OFB to the decrepit namespace
        from cryptography.hazmat.decrepit.ciphers.modes import OFB
    except ImportError:
        from cryptography.hazmat.primitives.ciphers.modes import OFB
    return Cipher, algorithms.AES, OFB


def ofb_crypt(data: bytes, get_key, get_iv, *, key_name: bytes = b"") -> bytes:
    """``data`` XOR AES-256-OFB keystream(key, IV) from offset 0 (encrypt == decrypt).

    ``get_key(32)`` and ``get_iv(16)`` supply the key and IV. Errors: EBUSY for a missing
    provider or a wrong length, ENOSYS when ``cryptography`` is missing.
    """
    Cipher, AES, OFB = _ofb_mode()
    if get_key is None or get_iv is None:
        raise EncryptError(f"KV secure item {key_name!r}: no key/IV provider configured")
    key, iv = get_key(32), get_iv(16)
    if key is None or iv is None or len(key) != 32 or len(iv) != 16:
        raise EncryptError(f"KV secure item {key_name!r}: key must be 32 bytes and IV 16 bytes")
    enc = Cipher(AES(bytes(key)), OFB(bytes(iv))).encryptor()
    return enc.update(bytes(data)) + enc.finalize()
