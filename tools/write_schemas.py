"""Regenerate schemas/*.schema.json from the models (run after changing a model)."""

from __future__ import annotations

import json
from pathlib import Path

from alignment_engine.schemas import SCHEMA_KINDS, schema_for

ROOT = Path(__file__).resolve().parent.parent

for kind in SCHEMA_KINDS:
    text = json.dumps(schema_for(kind), indent=2, ensure_ascii=False) + "\n"
    (ROOT / "schemas" / f"{kind}.schema.json").write_text(text, encoding="utf-8")
    print(f"wrote schemas/{kind}.schema.json")
