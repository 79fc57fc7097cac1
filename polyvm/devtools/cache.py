"""A content-addressed cache folder for built guest images, outside the git tree."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """Return (and create) a folder under the polyvm cache (env POLYVM_CACHE, default ~/.cache/polyvm)."""
    root = Path(os.environ.get("POLYVM_CACHE", Path.home() / ".cache" / "polyvm"))
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def content_key(*items: bytes | str) -> str:
    """A short stable hash of every input that determines a build output."""
    digest = hashlib.sha256()
    for item in items:
        data = item.encode() if isinstance(item, str) else item
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:20]
