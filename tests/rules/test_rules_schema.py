"""docs/rules.schema.json is generated from the rule models, validates real files, and
docs/rules.md documents every field of it."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from jit.cli import rules_schema_text

DOCS = Path(__file__).parent.parent.parent / "docs"


def test_committed_rules_schema_matches_the_models():
    committed = (DOCS / "rules.schema.json").read_text()
    assert committed == rules_schema_text(), "docs/rules.schema.json is stale: run `make schema` and commit it"


def test_the_demo_rules_file_is_valid_and_typos_are_not():
    schema = json.loads((DOCS / "rules.schema.json").read_text())
    demo = yaml.safe_load(resources.files("jit.demo").joinpath("rules.yaml").read_text())
    jsonschema.validate(demo, schema)
    typo = {**demo, "rules": [{**demo["rules"][0], "max_duraton_seconds": 60}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, schema)
    too_many = {"rules": [{**demo["rules"][1], "steps": [{"name": "x", "groups": ["g"], "required": 51}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(too_many, schema)


def _fields(schema: dict) -> set[str]:
    names = set(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        names |= set(definition.get("properties", {}))
    return names


def test_rules_md_documents_every_field_and_the_modeline():
    text = (DOCS / "rules.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M)) | set(re.findall(r"^### `([a-z_]+)`", text, re.M))
    missing = _fields(json.loads(rules_schema_text())) - documented
    assert not missing, f"docs/rules.md has no row for {sorted(missing)}"
    assert "# yaml-language-server: $schema=" in text
