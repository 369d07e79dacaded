"""The GraphQL schema (SDL) of the local endpoint: the types and fields the official CLI 23.9.10 asks for."""

from __future__ import annotations

__all__ = ["SCHEMA_SDL"]

SCHEMA_SDL = """
scalar UUID
scalar DateTime
scalar JSONString
scalar BigInt

type KernelNode {
  id: UUID  kernel_id: UUID  session_id: UUID  role: String  cluster_role: String  cluster_idx: Int
  cluster_hostname: String  image: String  registry: String  architecture: String  status: String
  status_info: String  status_data: JSONString  status_changed: DateTime  agent: String  agent_addr: String
  container_id: String  resource_opts: JSONString  occupied_slots: JSONString  preopen_ports: [Int]
  live_stat: JSONString  last_stat: JSONString  created_at: DateTime  terminated_at: DateTime
}

type ComputeSession {
  id: UUID  session_id: UUID  main_kernel_id: UUID  tag: String  name: String  type: String
  session_type: String  image: String  architecture: String  registry: String  cluster_template: String
  cluster_mode: String  cluster_size: Int  domain_name: String  group_name: String  group_id: UUID
  agent_ids: [String]  user_email: String  user_id: UUID  access_key: String  created_user_email: String
  created_user_id: UUID  status: String  status_info: String  status_data: JSONString
  status_history: JSONString
  status_changed: DateTime  created_at: DateTime  terminated_at: DateTime  starts_at: DateTime
  scheduled_at: DateTime  startup_command: String  result: String  commit_status: String
  abusing_reports: [JSONString]  idle_checks: JSONString  resource_opts: JSONString  scaling_group: String
  service_ports: JSONString  mounts: [String]  vfolder_mounts: [String]  occupying_slots: JSONString
  occupied_slots: JSONString  requested_slots: JSONString  num_queries: BigInt  containers: [KernelNode]
  dependencies: [ComputeSession]
}

type ComputeSessionList { items: [ComputeSession]!  total_count: Int! }

type VirtualFolder {
  id: UUID  host: String  quota_scope_id: String  name: String  user: UUID  user_email: String  group: UUID
  group_name: String  creator: String  domain_name: String  unmanaged_path: String  usage_mode: String
  permission: String  ownership_type: String  max_files: Int  max_size: BigInt  created_at: DateTime
  last_used: DateTime  num_files: Int  cur_size: BigInt  cloneable: Boolean  status: String
}

type VirtualFolderList { items: [VirtualFolder]!  total_count: Int! }

type KVPair { key: String  value: String }
type ResourceLimit { key: String  min: String  max: String }

type Image {
  id: UUID  name: String  humanized_name: String  tag: String  registry: String  architecture: String
  is_local: Boolean  digest: String  labels: [KVPair]  aliases: [String]  size_bytes: BigInt
  resource_limits: [ResourceLimit]  supported_accelerators: [String]  installed: Boolean
  installed_agents: [String]  hash: String
}

type UserInfo { email: String  full_name: String }

type KeyPair {
  user_id: String  full_name: String  user_info: UserInfo  projects: [String]  access_key: String
  secret_key: String  is_active: Boolean  is_admin: Boolean  resource_policy: String  created_at: DateTime
  modified_at: DateTime  last_used: DateTime  rate_limit: Int  num_queries: Int  concurrency_used: Int
  ssh_public_key: String  ssh_private_key: String  dotfiles: String  bootstrap_script: String
}

type UserGroup { id: UUID  name: String }

type User {
  id: UUID  uuid: UUID  username: String  email: String  need_password_change: Boolean  full_name: String
  description: String  is_active: Boolean  status: String  status_info: String  created_at: DateTime
  modified_at: DateTime  domain_name: String  role: String  groups: [UserGroup]  allowed_client_ip: [String]
  totp_activated: Boolean  sudo_session_enabled: Boolean  main_access_key: String
  resource_policy: String
}

type Agent {
  id: String  status: String  status_changed: DateTime  region: String  architecture: String
  scaling_group: String  schedulable: Boolean  available_slots: JSONString  occupied_slots: JSONString
  addr: String  first_contact: DateTime  lost_at: DateTime  live_stat: JSONString  version: String
  compute_plugins: JSONString  hardware_metadata: JSONString  local_config: JSONString
  compute_containers: [KernelNode]  cpu_cur_pct: Float  mem_cur_bytes: Float
}

type AgentList { items: [Agent]!  total_count: Int! }

type Query {
  compute_session_list(limit: Int!, offset: Int!, filter: String, order: String, domain_name: String,
    group_id: String, access_key: String, status: String): ComputeSessionList
  compute_session(id: UUID!): ComputeSession
  vfolder_list(limit: Int!, offset: Int!, filter: String, order: String, domain_name: String, group_id: UUID,
    access_key: String): VirtualFolderList
  vfolder_own_list(limit: Int!, offset: Int!, filter: String, order: String, domain_name: String,
    access_key: String): VirtualFolderList
  vfolder_invited_list(limit: Int!, offset: Int!, filter: String, order: String, domain_name: String,
    access_key: String): VirtualFolderList
  vfolder_project_list(limit: Int!, offset: Int!, filter: String, order: String, domain_name: String,
    access_key: String): VirtualFolderList
  vfolders(domain_name: String, group_id: String, access_key: String): [VirtualFolder]
  images(is_installed: Boolean, is_operation: Boolean, image_filters: [String]): [Image]
  image(reference: String!, architecture: String): Image
  keypair(domain_name: String, access_key: String): KeyPair
  keypairs(domain_name: String, email: String, is_active: Boolean): [KeyPair]
  user(domain_name: String, email: String): User
  user_from_uuid(domain_name: String, user_id: UUID): User
  agent(agent_id: String!): Agent
  agents(scaling_group: String, status: String): [Agent]
  agent_list(limit: Int!, offset: Int!, filter: String, order: String, scaling_group: String,
    status: String): AgentList
}
"""
