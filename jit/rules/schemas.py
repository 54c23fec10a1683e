"""The shape of an approval rule as written by people: GraphQL input and YAML alike."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from jit.errors import ValidationFailed


def _non_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


# A rule's or a permission set group's name: surrounding spaces dropped, never blank.
Name = Annotated[str, AfterValidator(_non_blank)]

_Spec = TypeVar("_Spec", bound=BaseModel)


def parse_spec(model: type[_Spec], data: object, default_field: str) -> _Spec:
    """Validate raw data, turning pydantic's report into a domain error naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or default_field
        raise ValidationFailed(f"{field}: {first['msg']}", field=field) from None


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
    permission_set_groups: list[str] = Field(default_factory=list)  # permission set group names


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name = Field(min_length=1, max_length=128)
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    required: int = Field(default=1, ge=1, le=50)


class OnBehalfSpec(BaseModel):
    """Who (requesters) may request for whom (principals) under the rule."""

    model_config = ConfigDict(extra="forbid")
    requesters: Principals
    principals: Principals


class ExtensionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requires_approval: bool = True
    # How many of the rule's steps an extension must pass; None means all of them.
    steps: int | None = Field(default=None, ge=0, le=50)
    max_total_duration_seconds: int = Field(gt=0)
    max_extensions: int = Field(default=1, ge=1, le=100)


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name = Field(min_length=1, max_length=128)
    description: str = ""
    requesters: Principals = Field(default_factory=Principals)
    scope: Scope = Field(default_factory=Scope)
    max_duration_seconds: int = Field(gt=0)
    justification_required: bool = True
    steps: list[StepSpec] = Field(default_factory=list)
    on_behalf: list[OnBehalfSpec] = Field(default_factory=list)
    break_glass: bool = False
    approval_window_seconds: int = Field(default=86400, gt=0, le=30 * 86400)
    extension: ExtensionSpec | None = None



def parse_rule(data: object) -> RuleSpec:
    return parse_spec(RuleSpec, data, "rule")
