/**
 * Compose service keys berth's spec cannot express, each with why. The converter lists every one
 * it meets (file:line and this reason); docs/compose.md has the same table, kept in sync by a test.
 */
export const UNSUPPORTED_SERVICE_KEYS: Readonly<Record<string, string>> = {
  annotations: "berth sets no OCI annotations",
  attach: "berth does not attach to container output (use berth logs)",
  blkio_config: "berth's resources have no block I/O limits",
  cgroup: "berth's spec has no cgroup namespace setting",
  cgroup_parent: "berth's spec has no cgroup parent",
  configs: "berth has no configs: mount the file with a bind mount",
  cpu_count: "Windows only",
  cpu_percent: "Windows only",
  cpu_period: "berth limits CPU with resources.cpus only",
  cpu_quota: "berth limits CPU with resources.cpus only",
  cpu_rt_period: "berth has no real-time CPU settings",
  cpu_rt_runtime: "berth has no real-time CPU settings",
  cpu_shares: "berth limits CPU with resources.cpus only",
  cpuset: "berth's resources have no CPU pinning",
  credential_spec: "Windows only",
  develop: "Compose Watch is a development feature",
  domainname: "berth's spec has a hostname only",
  driver_opts: "berth's spec has no network driver options",
  extends: "berth reads extends within the same file only, not other Compose files: inline the extended service",
  external_links: "legacy links: use a shared network and container names",
  gpus: "berth's spec has no GPU requests",
  group_add: "berth's spec has no supplementary groups (user takes uid:gid)",
  isolation: "Windows only",
  label_file: "berth does not read label files: list the labels",
  links: "legacy links: use a shared network and container names",
  mac_address: "berth's spec has no MAC address",
  mem_swappiness: "berth's resources have no swap settings",
  memswap_limit: "berth's resources have no swap settings",
  oom_kill_disable: "berth's resources have no OOM killer settings",
  oom_score_adj: "berth's resources have no OOM score",
  platform: "berth uses the engine's platform",
  post_start: "berth has no lifecycle hooks",
  pre_stop: "berth has no lifecycle hooks",
  provider: "berth runs containers only",
  secrets:
    "Compose secrets are files mounted at /run/secrets: use secretEnv (fromFile) or a read-only bind mount instead",
  stdin_open: "berth runs containers detached, without stdin",
  storage_opt: "berth's spec has no storage driver options",
  tty: "berth runs containers without a TTY",
  use_api_socket: "berth does not hand the Docker socket to containers",
  volumes_from: "berth's spec has no volumes_from: mount the same volumes by name",
};

/** Top-level keys berth cannot express. */
export const UNSUPPORTED_TOP_KEYS: Readonly<Record<string, string>> = {
  configs: "berth has no configs: mount the file with a bind mount",
  secrets: "berth has no Compose secrets: use secretEnv (fromFile)",
  include: "berth does not read other Compose files: convert each one",
  models: "berth runs containers only",
};
