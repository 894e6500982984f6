"""JSON Schemas of the file kinds, for editors (yaml-language-server) and other tools."""

from __future__ import annotations

from typing import Any

from alignment_engine.loading import document_models

SCHEMA_KINDS = tuple(sorted(document_models()))


def schema_for(kind: str) -> dict[str, Any]:
    schema = document_models()[kind].model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://alignment-engine.dev/schemas/{kind}.schema.json"
    return schema
