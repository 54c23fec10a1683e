"""The shape of an approval rule as written by people: GraphQL input and YAML alike."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

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
    """People, by user name and by identity store group."""

    model_config = ConfigDict(extra="forbid")
    users: list[str] = Field(default_factory=list, description="User names from the identity store.")
    groups: list[str] = Field(default_factory=list, description="Group display names from the identity store.")


class Scope(BaseModel):
    """What the rule covers: every account named or under an OU named, with every permission
    set named or in a permission set group named."""

    model_config = ConfigDict(extra="forbid")
    accounts: list[str] = Field(default_factory=list, description="Account ids or names.")
    organizational_units: list[str] = Field(
        default_factory=list,
        description="OU ids (ou-..., r-...) or name paths from the root (/Workloads/Prod); nested OUs included.")
    permission_sets: list[str] = Field(default_factory=list, description="Permission set names.")
    permission_set_groups: list[str] = Field(
        default_factory=list,
        description="Permission set group names. The group may be requested as one target, and each of its "
                    "permission sets may also be requested alone (docs/approval-engine.md).")
    permission_set_groups_bundle_only: bool = Field(
        default=False,
        description="true: the groups' permission sets are requestable only as the whole group, never one by "
                    "one (unless permission_sets names them too).")


class StepSpec(BaseModel):
    """One approval step: `required` distinct people among its users and group members approve."""

    model_config = ConfigDict(extra="forbid")
    name: Name = Field(min_length=1, max_length=128, description="Shown to approvers and requesters.")
    users: list[str] = Field(default_factory=list, description="Approvers by user name.")
    groups: list[str] = Field(default_factory=list, description="Approvers by group display name.")
    required: int = Field(default=1, ge=1, le=50,
                          description="How many distinct people must approve; more than the step's users and "
                                      "group members hold is warned of, and such tickets are refused.")


class OnBehalfSpec(BaseModel):
    """Who (requesters) may request for whom (principals) under the rule."""

    model_config = ConfigDict(extra="forbid")
    requesters: Principals = Field(description="Who may ask.")
    principals: Principals = Field(description="Whom they may ask for.")


class ExtensionSpec(BaseModel):
    """How tickets under the rule may be extended."""

    model_config = ConfigDict(extra="forbid")
    requires_approval: bool = Field(default=True, description="false: extensions are approved at once.")
    steps: int | None = Field(default=None, ge=0, le=50,
                              description="How many of the rule's steps an extension must pass; null: all of them.")
    max_total_duration_seconds: int = Field(gt=0, description="The longest a ticket may last, extensions included.")
    max_extensions: int = Field(default=1, ge=1, le=100, description="How many times a ticket may be extended.")


class RuleSpec(BaseModel):
    """An approval rule: who may request what, for how long, and whose approval it takes."""

    model_config = ConfigDict(extra="forbid")
    name: Name = Field(min_length=1, max_length=128, description="Unique; `jit rules apply` matches rules by name.")
    description: str = Field(default="", description="For people reading the rule.")
    requesters: Principals = Field(default_factory=Principals, description="Who may request for themself.")
    scope: Scope = Field(default_factory=Scope, description="The targets the rule covers.")
    max_duration_seconds: int = Field(gt=0, description="The longest ticket; at least JIT_MIN_DURATION_SECONDS.")
    justification_required: bool = Field(default=True, description="Requests must say why.")
    steps: list[StepSpec] = Field(default_factory=list,
                                  description="Approval steps, in order; none: tickets are approved at once.")
    on_behalf: list[OnBehalfSpec] = Field(default_factory=list, description="Who may request for whom.")
    break_glass: bool = Field(default=False,
                              description="The requester may approve their own ticket with a reason; it is "
                                          "flagged until an approver reviews it.")
    approval_window_seconds: int = Field(
        default=86400, gt=0, le=30 * 86400,
        description="A ticket not approved this long after it was requested (or by its end) expires.")
    extension: ExtensionSpec | None = Field(default=None, description="null: tickets cannot be extended.")


class GroupSpec(BaseModel):
    """A permission set group: a named bundle requested as one target, one assignment per permission set."""

    model_config = ConfigDict(extra="forbid")
    name: Name = Field(min_length=1, max_length=128, description="Unique; rules and requests name the group by it.")
    description: str = Field(default="", description="For people choosing it.")
    permission_sets: list[str] = Field(min_length=1, description="Permission set names, each once.")


def parse_rule(data: object) -> RuleSpec:
    return parse_spec(RuleSpec, data, "rule")


def parse_group(data: object) -> GroupSpec:
    return parse_spec(GroupSpec, data, "group")


def rules_file_schema() -> dict[str, Any]:
    """The JSON Schema of a rules file (docs/rules.schema.json), from the models themselves."""
    model = create_model(
        "RulesFile",
        __config__=ConfigDict(extra="forbid", title="JIT rules file"),
        permission_set_groups=(list[GroupSpec], Field(
            default_factory=list, description="Named bundles of permission sets; applied before the rules.")),
        rules=(list[RuleSpec], Field(default_factory=list, description="Approval rules.")),
    )
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = ("Approval rules and permission set groups for `jit rules apply` "
                             "(docs/rules.md). Generated from jit/rules/schemas.py by `make schema`.")
    return schema
