"""Zstandard: stored results and input tables written from this revision on are compressed with
Zstandard instead of zlib (``storage/codec.py``; zlib blobs written before still read).

No table changes. The revision exists so that an older engine, which reads only zlib, refuses
a database written by this one ("newer than this engine") instead of failing on its first run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: new blobs say by their first bytes how they are compressed."""


def downgrade() -> None:
    """Nothing to change back (blobs written since stay Zstandard: an older engine cannot
    read them)."""
