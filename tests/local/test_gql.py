"""GraphQL: the queries the official CLI 23.9.10 sends (ps, session info, vfolder list, keypair, images)."""

from __future__ import annotations

import json
from typing import Any

from manager_helpers import Api

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
