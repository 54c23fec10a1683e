"""Directory sync: the only code that writes the directory tables.

A sync reads the whole organization and identity store first, then applies the
difference in one transaction. The database work is a fixed number of statements per
table (per thousand rows), never one per account, so a 5,000-account organization costs
the same handful of round trips as a small one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.transactions import in_transaction

from jit.audit.service import record
from jit.authz.version import bump_policy_version
from jit.aws.clients import AwsClients
from jit.aws.identity_center import IdentityCenter
from jit.directory.models import Account, Group, GroupMembership, OrganizationalUnit, PermissionSet, User
from jit.runtime import Runtime

log = logging.getLogger(__name__)

# Enough parallel AWS calls to hide latency, few enough to stay under the API rate limits
# that the client's retries would otherwise have to back off from.
_AWS_CONCURRENCY = 16
# Rows per INSERT, and per UPDATE ... CASE. An UPDATE binds about three parameters per row
# and field, so 500 rows of the widest table stay well under PostgreSQL's and SQLite's
# 32,766-parameter limit.
_CREATE_BATCH = 1000
_UPDATE_BATCH = 500
_ID_BATCH = 5000

_ModelT = TypeVar("_ModelT", bound=Model)
_T = TypeVar("_T")


@dataclass
class TableSync:
    seen: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.removed


@dataclass
class SyncReport:
    organizational_units: TableSync = field(default_factory=TableSync)
    accounts: TableSync = field(default_factory=TableSync)
    permission_sets: TableSync = field(default_factory=TableSync)
    users: TableSync = field(default_factory=TableSync)
    groups: TableSync = field(default_factory=TableSync)
    memberships: TableSync = field(default_factory=TableSync)
    aws_seconds: float = 0.0
    database_seconds: float = 0.0
    elapsed_seconds: float = 0.0

    @property
    def tables(self) -> dict[str, TableSync]:
        return {
            "organizational_units": self.organizational_units,
            "accounts": self.accounts,
            "permission_sets": self.permission_sets,
            "users": self.users,
            "groups": self.groups,
            "memberships": self.memberships,
        }

    @property
    def changed(self) -> int:
        return sum(table.changed for table in self.tables.values())

    def summary(self) -> dict[str, Any]:
        """For scripts (`jit sync --output json`): the same words as the table."""
        return {
            "tables": {name: {"seen": t.seen, "added": t.created, "changed": t.updated, "removed": t.removed}
                       for name, t in self.tables.items()},
            "aws_seconds": round(self.aws_seconds, 3), "database_seconds": round(self.database_seconds, 3),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }

    def table_text(self) -> str:
        """For people: one row per table, then the time taken."""
        rows = [("", "SEEN", "ADDED", "CHANGED", "REMOVED")]
        rows += [(name.replace("_", " "), str(t.seen), str(t.created), str(t.updated), str(t.removed))
                 for name, t in self.tables.items()]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]).rstrip()
                 for r in rows]
        lines.append(f"synced in {self.elapsed_seconds:.1f} s (AWS {self.aws_seconds:.1f} s, "
                     f"database {self.database_seconds:.1f} s)")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Snapshot:
    """What AWS says now, keyed by primary key, in the models' field names."""

    organizational_units: dict[str, dict[str, Any]]
    accounts: dict[str, dict[str, Any]]
    permission_sets: dict[str, dict[str, Any]]
    users: dict[str, dict[str, Any]]
    groups: dict[str, dict[str, Any]]
    memberships: set[tuple[str, str]]  # (group id, user id)


async def sync_directory(rt: Runtime) -> SyncReport:
    """Mirror AWS into the directory tables and bump the policy version.

    Every AWS read finishes before the first write, so a failed or throttled-out call
    leaves the directory exactly as the last good sync wrote it. Runs its own transaction.
    """
    started = time.monotonic()
    aws = rt.aws
    identity_center = await rt.identity_center()
    limit = asyncio.Semaphore(_AWS_CONCURRENCY)
    (ous, accounts), permission_sets, (users, groups, memberships) = await asyncio.gather(
        _read_organization(aws, limit),
        _read_permission_sets(aws, identity_center, limit),
        _read_identity_store(aws, identity_center, limit),
    )
    snapshot = _Snapshot(ous, accounts, permission_sets, users, groups, memberships)
    read_done = time.monotonic()

    report = await _apply(snapshot, rt.clock.now())

    finished = time.monotonic()
    report.aws_seconds = read_done - started
    report.database_seconds = finished - read_done
    report.elapsed_seconds = finished - started
    log.info(
        "directory sync: %s",
        ", ".join(
            f"{name} {t.seen} seen/{t.created} created/{t.updated} updated/{t.removed} removed"
            for name, t in report.tables.items()
        ),
    )
    return report


# --- reading AWS ------------------------------------------------------------------------


async def _collect(client: Any, operation: str, key: str, limit: asyncio.Semaphore, **params: Any) -> list[Any]:
    items: list[Any] = []
    async with limit:
        async for page in client.get_paginator(operation).paginate(**params):
            items.extend(page.get(key, []))
    return items


async def _read_organization(
    aws: AwsClients, limit: asyncio.Semaphore
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    ous: dict[str, dict[str, Any]] = {}
    accounts: dict[str, dict[str, Any]] = {}
    async with aws.client("organizations") as org:
        for root in await _collect(org, "list_roots", "Roots", limit):
            ous[root["Id"]] = {"name": root.get("Name", "Root"), "parent_id": None, "path": f"/{root['Id']}/"}

        # Breadth first: one level's units are all asked about at once. Listing accounts per
        # parent tells each account's parent in one call per 20 accounts, where list_accounts
        # would need a list_parents call for every account.
        frontier = list(ous)
        while frontier:
            levels = await asyncio.gather(
                *(
                    asyncio.gather(
                        _collect(org, "list_organizational_units_for_parent", "OrganizationalUnits", limit, ParentId=p),
                        _collect(org, "list_accounts_for_parent", "Accounts", limit, ParentId=p),
                    )
                    for p in frontier
                )
            )
            next_frontier = []
            for parent_id, (children, members) in zip(frontier, levels, strict=True):
                parent_path = ous[parent_id]["path"]
                for child in children:
                    ous[child["Id"]] = {"name": child["Name"], "parent_id": parent_id, "path": f"{parent_path}{child['Id']}/"}
                    next_frontier.append(child["Id"])
                for account in members:
                    accounts[account["Id"]] = {
                        "name": account["Name"],
                        "email": account.get("Email", ""),
                        # State supersedes the deprecated Status; older endpoints send only Status.
                        "status": account.get("State") or account.get("Status") or "ACTIVE",
                        "parent_id": parent_id,
                        "ou_path": parent_path,
                    }
            frontier = next_frontier

        async def tags_of(account_id: str) -> tuple[str, dict[str, str]]:
            tags = await _collect(org, "list_tags_for_resource", "Tags", limit, ResourceId=account_id)
            return account_id, {tag["Key"]: tag["Value"] for tag in tags}

        for account_id, tags in await asyncio.gather(*(tags_of(a) for a in accounts)):
            accounts[account_id]["tags"] = tags
    return ous, accounts


async def _read_permission_sets(
    aws: AwsClients, identity_center: IdentityCenter, limit: asyncio.Semaphore
) -> dict[str, dict[str, Any]]:
    instance_arn = identity_center.instance_arn
    async with aws.client("sso-admin") as sso:
        arns = await _collect(sso, "list_permission_sets", "PermissionSets", limit, InstanceArn=instance_arn)

        async def describe(arn: str) -> dict[str, Any]:
            async with limit:
                response = await sso.describe_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)
            described: dict[str, Any] = response["PermissionSet"]
            return described

        described = await asyncio.gather(*(describe(arn) for arn in arns))
    return {
        ps["PermissionSetArn"]: {
            "name": ps["Name"],
            "description": ps.get("Description") or "",
            "session_duration": ps.get("SessionDuration") or "PT1H",
        }
        for ps in described
    }


async def _read_identity_store(
    aws: AwsClients, identity_center: IdentityCenter, limit: asyncio.Semaphore
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], set[tuple[str, str]]]:
    store_id = identity_center.identity_store_id
    async with aws.client("identitystore") as store:
        raw_users, raw_groups = await asyncio.gather(
            _collect(store, "list_users", "Users", limit, IdentityStoreId=store_id),
            _collect(store, "list_groups", "Groups", limit, IdentityStoreId=store_id),
        )
        per_group = await asyncio.gather(
            *(
                _collect(store, "list_group_memberships", "GroupMemberships", limit, IdentityStoreId=store_id, GroupId=g["GroupId"])
                for g in raw_groups
            )
        )
    users = {
        u["UserId"]: {"user_name": u["UserName"], "display_name": u.get("DisplayName") or "", "email": _primary_email(u)}
        for u in raw_users
    }
    groups = {g["GroupId"]: {"display_name": g["DisplayName"], "description": g.get("Description") or ""} for g in raw_groups}
    # A membership can outlive its user for a moment (and does in moto); only a membership
    # between a live user and a live group means anything.
    memberships = {
        (group["GroupId"], m["MemberId"]["UserId"])
        for group, members in zip(raw_groups, per_group, strict=True)
        for m in members
        if m.get("MemberId", {}).get("UserId") in users
    }
    return users, groups, memberships


def _primary_email(user: dict[str, Any]) -> str:
    emails = user.get("Emails") or []
    for email in emails:
        if email.get("Primary"):
            primary: str = email.get("Value", "")
            return primary
    first: str = emails[0].get("Value", "") if emails else ""
    return first


# --- writing the database ---------------------------------------------------------------


async def _apply(snapshot: _Snapshot, now: datetime) -> SyncReport:
    report = SyncReport()
    async with in_transaction():
        # First, so that its row lock makes a second sync running at the same moment wait
        # for this one to commit and then diff against what it wrote.
        await bump_policy_version()
        report.organizational_units = await _sync_table(OrganizationalUnit, snapshot.organizational_units, now)
        report.accounts = await _sync_table(Account, snapshot.accounts, now)
        report.permission_sets = await _sync_table(PermissionSet, snapshot.permission_sets, now)
        report.users = await _sync_table(User, snapshot.users, now, unique="user_name")
        report.groups = await _sync_table(Group, snapshot.groups, now, unique="display_name")
        report.memberships = await _sync_memberships(snapshot.memberships)
        await record(
            now, None, "sync.completed", subject_type="sync", subject_id="directory",
            after={name: {"seen": t.seen, "created": t.created, "updated": t.updated, "removed": t.removed}
                   for name, t in report.tables.items()},
            detail={"changed": report.changed},
        )
    return report


async def _sync_table(
    model: type[_ModelT], incoming: dict[str, dict[str, Any]], now: datetime, unique: str | None = None
) -> TableSync:
    result = TableSync(seen=len(incoming))
    existing: dict[str, Any] = {row.pk: row for row in await model.all()}

    if unique:
        parked = _park_taken_names(model, existing, incoming, unique)
        if parked:
            await model.bulk_update(parked, fields=[unique], batch_size=_UPDATE_BATCH)

    created: list[_ModelT] = []
    updated: list[Any] = []
    for pk, values in incoming.items():
        row = existing.get(pk)
        if row is None:
            created.append(model(**{model._meta.pk_attr: pk}, **values, synced_at=now))
        elif row.removed_at is not None or any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.removed_at = None
            updated.append(row)
    gone = [pk for pk, row in existing.items() if pk not in incoming and row.removed_at is None]

    for batch in _chunks(gone, _ID_BATCH):
        await model.filter(pk__in=batch).update(removed_at=now)
    if updated:
        fields = sorted({name for values in incoming.values() for name in values} | {"removed_at"})
        await model.bulk_update(updated, fields=fields, batch_size=_UPDATE_BATCH)
    if created:
        await model.bulk_create(created, batch_size=_CREATE_BATCH)
    # Everything still live was seen by this sync; one statement records that.
    await model.filter(removed_at=None).update(synced_at=now)

    result.created, result.updated, result.removed = len(created), len(updated), len(gone)
    return result


def _park_taken_names(
    model: type[Model], existing: dict[str, Any], incoming: dict[str, dict[str, Any]], unique: str
) -> list[Any]:
    """Free unique names that another row is about to take.

    A user deleted and recreated in the identity store comes back with a new id and the
    old user name; two users can swap names. Uniqueness is checked row by row, so the row
    that holds a name another row needs gets a parked name first: "name~id", kept by a
    removed row for good, replaced within this sync for a live one.
    """
    max_length = model._meta.fields_map[unique].max_length  # type: ignore[attr-defined]
    owner = {values[unique]: pk for pk, values in incoming.items()}
    parked = []
    for pk, row in existing.items():
        name = getattr(row, unique)
        if owner.get(name, pk) != pk:
            suffix = f"~{pk}"
            setattr(row, unique, name[: max_length - len(suffix)] + suffix)
            parked.append(row)
    return parked


async def _sync_memberships(incoming: set[tuple[str, str]]) -> TableSync:
    rows = await GroupMembership.all().values_list("id", "group_id", "user_id")
    existing = {(group_id, user_id): row_id for row_id, group_id, user_id in rows}
    created = [GroupMembership(group_id=g, user_id=u) for g, u in incoming.difference(existing)]
    stale = [row_id for key, row_id in existing.items() if key not in incoming]
    for batch in _chunks(stale, _ID_BATCH):
        await GroupMembership.filter(id__in=batch).delete()
    if created:
        await GroupMembership.bulk_create(created, batch_size=_CREATE_BATCH)
    return TableSync(seen=len(incoming), created=len(created), removed=len(stale))


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
