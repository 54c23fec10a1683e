"""The shape of an approval rule as written by people: GraphQL input and YAML alike."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from jit.errors import ValidationFailed


class Principals(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[str] = Field(default_factory=list)  # user names
    groups: list[str] = Field(default_factory=list)  # group display names


class Scope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accounts: list[str] = Field(default_factory=list)  # account ids or names
    # OU ids ("ou-...", "r-...") or name paths from the root ("/Workloads/Prod").
    organizational_units: list[str] = Field(default_factory=list)
    permission_sets: list[str] = Field(default_factory=list)  # permission set names


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    required: int = Field(default=1, ge=1, le=50)


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    description: str = ""
    requesters: Principals = Field(default_factory=Principals)
    scope: Scope = Field(default_factory=Scope)
    max_duration_seconds: int = Field(gt=0)
    justification_required: bool = True
    steps: list[StepSpec] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


def parse_rule(data: object) -> RuleSpec:
    """Validate raw data, turning pydantic's report into a domain error naming the field."""
    try:
        return RuleSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "rule"
        raise ValidationFailed(f"{field}: {first['msg']}", field=field) from None
