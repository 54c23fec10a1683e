from pathlib import Path

from jit.graphql.schema import schema


def test_committed_schema_matches_the_code():
    committed = (Path(__file__).parent.parent / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", "schema.graphql is stale: run `make schema` and commit it"
