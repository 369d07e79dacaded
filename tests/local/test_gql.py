"""GraphQL: the queries the official CLI 23.9.10 sends (ps, session info, vfolder list, keypair, images)."""

from __future__ import annotations

import json
from typing import Any

from manager_helpers import Api

from backendai_jupyter.local.images import canonical_image

# built the way backend.ai-client 23.9.10 builds them (pagination.py, cli/admin/session.py, func/keypair.py)
PS_QUERY = """query($limit:Int!, $offset:Int!, $status: String, $access_key: String, $filter: String,
  $order: String) {
  compute_session_list(
      limit:$limit, offset:$offset, status:$status, access_key:$access_key, filter:$filter, order:$order) {
    items { name session_id group_name main_kernel_id image type status status_info status_changed result }
    total_count
  }
}"""
INFO_QUERY = (
    "query($id: UUID!) {  compute_session(id: $id) {    name session_id main_kernel_id image tag "
    "created_at terminated_at status status_info status_data occupying_slots idle_checks containers { id "
    "cluster_role cluster_idx cluster_hostname session_id image registry status status_info status_data "
    "status_changed agent container_id resource_opts occupied_slots preopen_ports live_stat last_stat } "
    "dependencies { name id }  }}"
)
# verbatim from backend.ai-client 23.9.10 `session info` (`id` twice is legal GraphQL)
CLI_INFO_QUERY = (
    "query($id: UUID!) {  compute_session(id: $id) {    name id main_kernel_id image tag created_at "
    "terminated_at status status_info status_data occupying_slots idle_checks containers { id cluster_role "
    "cluster_idx cluster_hostname session_id image registry status status_info status_data status_changed "
    "agent container_id resource_opts occupied_slots preopen_ports live_stat last_stat id } dependencies "
    "{ name id }  }}"
)
KEYPAIR_QUERY = "query {  keypair {    user_id access_key secret_key is_active is_admin  }}"
VFOLDER_QUERY = """query($limit:Int!, $offset:Int!, $group_id: UUID, $filter: String, $order: String) {
  vfolder_list(limit:$limit, offset:$offset, group_id:$group_id, filter:$filter, order:$order) {
    items { host name created_at creator group permission ownership_type status }
    total_count
  }
}"""
IMAGES_QUERY = (
    "query($is_operation: Boolean) {  images(is_operation: $is_operation) {    name registry tag  }}"
)


async def gql(api: Api, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    status, body, _ = await api.call(
        "POST", "/admin/gql", json_body={"query": query, "variables": variables or {}}
    )
    assert status == 200, body
    assert "errors" not in body, body
    return dict(body["data"])


async def test_ps_and_session_info(api: Api) -> None:
    created = await api.create("gql-sess")
    variables = {
        "limit": 20,
        "offset": 0,
        "status": "PENDING,RUNNING,TERMINATING",
        "access_key": None,
        "filter": None,
        "order": None,
    }
    data = await gql(api, PS_QUERY, variables)
    items = {i["name"]: i for i in data["compute_session_list"]["items"]}
    assert items["gql-sess"]["session_id"] == created["sessionId"]
    assert items["gql-sess"]["status"] == "RUNNING"
    assert items["gql-sess"]["result"] == "UNDEFINED"
    filtered = await gql(api, PS_QUERY, {**variables, "filter": 'name == "gql-sess"', "order": "-name"})
    assert [i["name"] for i in filtered["compute_session_list"]["items"]] == ["gql-sess"]
    assert filtered["compute_session_list"]["total_count"] == 1

    info = (await gql(api, INFO_QUERY, {"id": created["sessionId"]}))["compute_session"]
    assert info["name"] == "gql-sess"
    assert info["containers"][0]["cluster_role"] == "main"
    assert isinstance(info["status_data"], str)
    assert json.loads(info["occupying_slots"])["cpu"] == "1"
    missing = await gql(api, INFO_QUERY, {"id": "00000000-0000-0000-0000-000000000000"})
    assert missing["compute_session"] is None
    await api.call("DELETE", "/session/gql-sess")
    dead = await gql(
        api, PS_QUERY, {**variables, "status": "TERMINATED,CANCELLED", "filter": 'name == "gql-sess"'}
    )
    assert dead["compute_session_list"]["items"][0]["status"] == "TERMINATED"


async def test_keypair_images_vfolders(api: Api) -> None:
    keypair = (await gql(api, KEYPAIR_QUERY))["keypair"]
    assert keypair["access_key"] == api.access_key
    assert keypair["is_admin"] is True
    assert api.secret_key not in json.dumps(keypair)
    images = (await gql(api, IMAGES_QUERY, {"is_operation": False}))["images"]
    assert any(i["name"] == "python" for i in images)
    status, _, _ = await api.call("POST", "/folders", json_body={"name": "gql-vf"})
    try:
        data = await gql(
            api, VFOLDER_QUERY, {"limit": 20, "offset": 0, "group_id": None, "filter": None, "order": None}
        )
        names = [i["name"] for i in data["vfolder_list"]["items"]]
        assert status != 201 or "gql-vf" in names
    finally:
        await api.call("DELETE", "/folders/gql-vf")


async def test_errors(api: Api) -> None:
    status, body, _ = await api.call("POST", "/admin/gql", json_body={"query": "{ no_such_field }"})
    assert status == 200
    assert body["errors"]
    assert "no_such_field" in body["errors"][0]["message"]
    status, body, _ = await api.call("POST", "/admin/graphql", json_body={"query": "{ no_such_field }"})
    assert status == 400
    assert body["type"].endswith("/graphql-error")
    assert body["data"]
    status, body, _ = await api.call("POST", "/admin/graphql", json_body={"query": KEYPAIR_QUERY})
    assert status == 200
    assert body["keypair"]["access_key"] == api.access_key


async def test_session_info_has_the_real_managers_shapes(api: Api) -> None:
    # created with the alias the CLI's `session create ... python` sends
    created = await api.create("gql-shapes", image="python")
    canonical = canonical_image("python")
    try:
        info = (await gql(api, CLI_INFO_QUERY, {"id": created["sessionId"]}))["compute_session"]
        # the CLI json.loads() these: JSONString scalars are JSON text, never objects
        for key in ("status_data", "occupying_slots", "idle_checks"):
            assert isinstance(info[key], str), (key, info[key])
            assert isinstance(json.loads(info[key]), dict), key
        assert json.loads(info["occupying_slots"])["cpu"] == "1"
        (kernel,) = info["containers"]
        for key in ("status_data", "resource_opts", "occupied_slots"):
            assert isinstance(kernel[key], str), (key, kernel[key])
            assert isinstance(json.loads(kernel[key]), dict), key
        assert (kernel["live_stat"], kernel["last_stat"]) == (None, None)
        assert (info["status"], info["status_info"], kernel["status_info"]) == ("RUNNING", "", "")
        assert (kernel["cluster_role"], kernel["cluster_idx"], kernel["cluster_hostname"]) == (
            "main",
            1,
            "main1",
        )
        assert kernel["id"] == info["main_kernel_id"]
        assert info["image"] == kernel["image"] == canonical
        assert kernel["registry"] == "cr.backend.ai"
        assert canonical.startswith("cr.backend.ai/stable/python:")

        listed = await gql(
            api,
            PS_QUERY,
            {
                "limit": 20,
                "offset": 0,
                "status": "RUNNING",
                "access_key": None,
                "filter": None,
                "order": None,
            },
        )
        (item,) = [i for i in listed["compute_session_list"]["items"] if i["name"] == "gql-shapes"]
        assert (item["image"], item["status_info"]) == (canonical, "")

        status, rest, _ = await api.call("GET", "/session/gql-shapes")
        assert status == 200, rest
        assert (rest["image"], rest["lang"], rest["registry"]) == (canonical, canonical, "cr.backend.ai")

        # the canonical name reuses the session made with the alias, as the manager compares resolved refs
        again = await api.create("gql-shapes", image=canonical, reuseIfExists=True)
        assert (again["sessionId"], again["created"]) == (created["sessionId"], False)
    finally:
        await api.call("DELETE", "/session/gql-shapes")
    dead = (await gql(api, CLI_INFO_QUERY, {"id": created["sessionId"]}))["compute_session"]
    assert (dead["status"], dead["status_info"]) == ("TERMINATED", "user-requested")
