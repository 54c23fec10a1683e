"""Requestable accounts and targets: paged and searched on the server, consistent with the full list."""

from __future__ import annotations

ACCOUNTS = """query($search: String, $ouId: ID, $first: Int!, $after: String) {
  requestableAccounts(search: $search, ouId: $ouId, first: $first, after: $after) {
    totalCount edges { cursor node { id name organizationalUnitPath } } pageInfo { hasNextPage endCursor }
  }
}"""

TARGETS = """query($accountIds: [ID!]) {
  requestableTargets(accountIds: $accountIds) {
    account { id name } permissionSet { name } permissionSetGroup { name } ruleName maxDurationSeconds
  }
}"""


async def _all_pages(api, rt, user, first):
    names, after = [], None
    while True:
        page = (await api.as_(rt, user, ACCOUNTS, first=first, after=after))["requestableAccounts"]
        names += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return names, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


async def test_pages_cover_exactly_the_accounts_of_the_full_list(api, demo):
    full = (await api.as_(demo.rt, "alice", TARGETS))["requestableTargets"]
    expected = sorted({(t["account"]["name"], t["account"]["id"]) for t in full})
    names, total = await _all_pages(api, demo.rt, "alice", first=4)
    assert names == [name for name, _ in expected]
    assert total == len(expected) > 4
    assert "audit" not in names  # alice may request nothing there


async def test_search_and_ou_narrow_the_accounts(api, demo):
    found = (await api.as_(demo.rt, "alice", ACCOUNTS, first=50, search="PROD"))["requestableAccounts"]
    names = [e["node"]["name"] for e in found["edges"]]
    assert names and all("prod" in n for n in names) and found["totalCount"] == len(names)
    payments = demo.account("payments-prod")
    by_id = (await api.as_(demo.rt, "alice", ACCOUNTS, first=50, search=payments[:6]))["requestableAccounts"]
    assert payments in {e["node"]["id"] for e in by_id["edges"]}
    ou = next(seg for seg in found["edges"][0]["node"]["organizationalUnitPath"].split("/") if seg.startswith("ou-"))
    under = (await api.as_(demo.rt, "alice", ACCOUNTS, first=50, ouId=ou))["requestableAccounts"]
    assert under["edges"] and all(f"/{ou}/" in e["node"]["organizationalUnitPath"] for e in under["edges"])
    nobody = (await api.as_(demo.rt, "admin", ACCOUNTS, first=50))["requestableAccounts"]
    assert nobody["totalCount"] == 0 and nobody["edges"] == []


async def test_targets_for_chosen_accounts_match_the_full_list(api, demo):
    full = (await api.as_(demo.rt, "alice", TARGETS))["requestableTargets"]
    chosen = [demo.account("payments-prod"), demo.account("sandbox-alice")]
    some = (await api.as_(demo.rt, "alice", TARGETS, accountIds=chosen))["requestableTargets"]
    assert some and {t["account"]["id"] for t in some} == set(chosen)
    assert sorted(map(repr, some)) == sorted(repr(t) for t in full if t["account"]["id"] in chosen)
    assert (await api.as_(demo.rt, "alice", TARGETS, accountIds=[]))["requestableTargets"] == []


async def test_bad_paging_input_is_a_clear_error(api, demo):
    for args, message in (
        ({"first": 0}, "first must be between 1 and 200"),
        ({"first": 201}, "first must be between 1 and 200"),
        ({"first": 5, "after": "!!"}, "malformed cursor"),
    ):
        body = (await api.raw(ACCOUNTS, args, await api.token(demo.rt, "alice"))).json()
        assert body["errors"][0]["message"] == message, body
    too_many = (await api.raw(TARGETS, {"accountIds": [str(n).zfill(12) for n in range(101)]}, await api.token(demo.rt, "alice"))).json()
    assert too_many["errors"][0]["message"] == "at most 100 accounts at a time"



async def test_an_ou_is_taken_by_its_name_path_and_an_unknown_one_is_an_error(api, demo):
    by_path = (await api.as_(demo.rt, "alice", ACCOUNTS, first=50, ouId="/Workloads/Prod"))["requestableAccounts"]
    names = {e["node"]["name"] for e in by_path["edges"]}
    assert names == {"payments-prod", "checkout-prod", "search-prod", "data-platform-prod", "identity-prod"}
    assert by_path["totalCount"] == 5
    nested = (await api.as_(demo.rt, "alice", ACCOUNTS, first=50, ouId="/Workloads/"))["requestableAccounts"]
    assert names < {e["node"]["name"] for e in nested["edges"]}
    by_id = (await api.as_(demo.rt, "alice", ACCOUNTS, first=50,
                           ouId=demo.org.organizational_units["/Workloads/Prod"]))["requestableAccounts"]
    assert by_id["totalCount"] == 5
    token = await api.token(demo.rt, "alice")
    for ref in ("nonsense", "/Workloads/Nope"):
        body = (await api.raw(ACCOUNTS, {"first": 5, "ouId": ref}, token)).json()
        assert body["data"] is None
        error = body["errors"][0]
        assert error["extensions"] == {"code": "NOT_FOUND", "field": "ouId"}
        assert ref in error["message"]


async def test_accounts_and_ous_show_their_name_paths(api, demo):
    data = await api.as_(demo.rt, "alice", """{
      accounts { name organizationalUnitNamePath }
      organizationalUnits { id name namePath }
    }""")
    accounts = {a["name"]: a["organizationalUnitNamePath"] for a in data["accounts"]}
    assert accounts["payments-prod"] == "/Workloads/Prod" and accounts["sandbox-alice"] == "/Sandbox"
    paths = {o["namePath"] for o in data["organizationalUnits"]}
    assert {"/", "/Workloads", "/Workloads/Prod", "/Sandbox"} <= paths
