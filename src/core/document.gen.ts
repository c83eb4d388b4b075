/* Generated from schemas/container.schema.json by `npm run gen`. Do not edit by hand. */

/**
 * Replaces the image's CMD.
 *
 * @minItems 1
 * @maxItems 1024
 */
export type StringList = [string, ...string[]];
/**
 * Replaces the image's ENTRYPOINT.
 *
 * @minItems 1
 * @maxItems 1024
 */
export type StringList1 = [string, ...string[]];
/**
 * A bind mount of a host path, a named volume, or a tmpfs.
 */
export type Mount = {
  /**
   * bind, volume or tmpfs.
   */
  type: "bind" | "volume" | "tmpfs";
} & Mount1;
export type Mount1 = Bind | Volume | Tmpfs;
export type AbsolutePath = string;
/**
 * The command, in exec form, without Docker's CMD, CMD-SHELL or NONE in front: berth adds CMD itself. A shell command is ["/bin/sh", "-c", "…"].
 *
 * @minItems 1
 * @maxItems 1024
 */
export type StringList2 = [string, ...string[]];
export type Capability = string;
/**
 * One limit: a number (soft = hard), or {soft, hard} with soft at most hard. -1 means unlimited (not for nofile: the kernel caps open files at fs.nr_open).
 */
export type Ulimit = number | {soft: number; hard: number};

/**
 * Every kind of berth spec document.
 */
export interface BerthDocuments {
  container?: BerthContainer;
  network?: BerthNetwork;
  volume?: BerthVolume;
}
/**
 * One container (or a pool of replicas) that berth keeps running on a Docker host. Kubernetes-style: apiVersion, kind, metadata, spec.
 */
export interface BerthContainer {
  /**
   * Always berth/v1.
   */
  apiVersion: "berth/v1";
  /**
   * Container for a container document; Network and Volume documents (below) declare a network or a named volume.
   */
  kind: "Container" | "Network" | "Volume";
  metadata: Metadata;
  spec: Spec;
}
/**
 * Identity of the spec: its name (the container's name) and the labels put on its containers.
 */
export interface Metadata {
  /**
   * A DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters. It is the container's name; with replicas > 1 the containers are name-0 … name-(n-1).
   */
  name: string;
  /**
   * Labels put on every container of this spec. Keys under berth's reserved prefix (berth.) are refused.
   */
  labels?: {
    [k: string]: string;
  };
}
/**
 * What the container runs and how berth manages it.
 */
export interface Spec {
  /**
   * The image reference: name, optional :tag and/or @sha256:digest. Required unless `build` is given (then not allowed).
   */
  image?: string;
  /**
   * Build the image from a folder beside the spec instead of naming one (docs/images.md, Builds). The image is tagged berth.local/<name>:<the first 12 hex of the context's SHA-256>, and rebuilt only when that hash changes. Not with `image`.
   */
  build?: {
    /**
     * The build context: a folder, relative to the spec file, inside the spec folder berth reads (for a Git source, the checkout's --git-path folder). Its .dockerignore is honoured.
     */
    context: string;
    /**
     * The Dockerfile, relative to the context and inside it. Default Dockerfile.
     */
    dockerfile?: string;
    /**
     * Build arguments (ARG). Values are strings; a secret source is refused: the Engine API's build endpoint would keep it in the image's history in clear.
     */
    args?: {
      [k: string]: string | SecretRef;
    };
    /**
     * The stage of a multi-stage Dockerfile to build.
     */
    target?: string;
  };
  /**
   * IfNotPresent (default): pull only when the image is missing. Always: pull before every create, and follow the tag by digest: the containers are replaced when the registry's digest for the tag moves (asked at start and every --image-check; docs/images.md). Never: use the local image or fail.
   */
  imagePullPolicy?: "IfNotPresent" | "Always" | "Never";
  /**
   * Which registry credentials the pull uses: a key of `auths` in --registry-auth-file or Docker's config.json, exactly as written there (e.g. ghcr.io/team-a). Without it, the entry for the image's registry (the longest matching path), its credHelpers entry, or credsStore. Not in the spec hash. docs/images.md.
   */
  imagePullSecret?: string;
  command?: StringList;
  entrypoint?: StringList1;
  /**
   * Run an init process (Docker's tini) as PID 1: it forwards signals and reaps zombies, so a plain `sleep infinity` stops at once. Default false.
   */
  init?: boolean;
  /**
   * The working directory of the container's process.
   */
  workingDir?: string;
  /**
   * The user (and group) the process runs as: a name or uid, optionally :group or :gid.
   */
  user?: string;
  /**
   * The container's hostname.
   */
  hostname?: string;
  /**
   * Entries added to the container's /etc/hosts, as Kubernetes' hostAliases (Compose's extra_hosts): each IP with the hostnames that resolve to it. The IP `host-gateway` is the host's own address on the default bridge (Docker's special value). Default: none.
   *
   * @maxItems 256
   */
  hostAliases?: {
    /**
     * An IPv4 or IPv6 address, or host-gateway.
     */
    ip: string;
    /**
     * The names that resolve to the IP.
     *
     * @minItems 1
     * @maxItems 64
     */
    hostnames: [string, ...string[]];
  }[];
  /**
   * The container's resolver settings (/etc/resolv.conf), as Kubernetes' dnsConfig (Compose's dns, dns_search, dns_opt). Default: the engine's (on a user-defined network, its embedded DNS server).
   */
  dnsConfig?: {
    /**
     * DNS servers, by IP address.
     *
     * @minItems 1
     * @maxItems 8
     */
    nameservers?:
      | [string]
      | [string, string]
      | [string, string, string]
      | [string, string, string, string]
      | [string, string, string, string, string]
      | [string, string, string, string, string, string]
      | [string, string, string, string, string, string, string]
      | [string, string, string, string, string, string, string, string];
    /**
     * Search domains for unqualified names.
     *
     * @minItems 1
     * @maxItems 32
     */
    searches?: [string, ...string[]];
    /**
     * Resolver options (ndots, timeout, edns0, …): each a name, with a value where it takes one.
     *
     * @minItems 1
     * @maxItems 32
     */
    options?: [
      {
        name: string;
        value?: string;
      },
      ...{
        name: string;
        value?: string;
      }[]
    ];
  };
  /**
   * Environment variables. Values are strings: quote numbers and booleans.
   */
  env?: {
    [k: string]: string;
  };
  /**
   * Environment variables whose values are secrets, resolved when the container is created. Their values never appear in labels, logs or status; a keyed digest of each (HMAC-SHA256 under a key kept in the engine) is part of the spec hash, so rotating a value replaces the container.
   */
  secretEnv?: {
    [k: string]: SecretRef;
  };
  /**
   * Bind mounts, named volumes and tmpfs mounts.
   *
   * @maxItems 128
   */
  mounts?: Mount[];
  /**
   * The size of the container's /dev/shm (Compose's shm_size; Docker's default is 64Mi): databases and browsers want more.
   */
  shmSize?: string | number;
  /**
   * The network to join: a network name, bridge (default), none, host, container:NAME, or auto (berth's --network, else berth's own container network, else bridge).
   */
  network?: string;
  /**
   * Further user-defined networks the container joins beside `network` (Compose's second and later networks of a service), by name; the container answers to its name on each. Default: none. Not with network none, host or container:NAME; not bridge, auto or the primary network again. Joining several networks at create needs Docker 25 (API 1.44) or later.
   *
   * @maxItems 64
   */
  extraNetworks?: string[];
  /**
   * Ports exposed by the container, and published on the host when hostPort is set.
   *
   * @maxItems 256
   */
  ports?: Port[];
  /**
   * Resource limits.
   */
  resources?: {
    /**
     * CPU limit: a number of CPUs (0.5, "2") or millicpus ("250m").
     */
    cpus?: string | number;
    /**
     * Memory limit.
     */
    memory?: string | number;
    /**
     * Memory soft limit (reservation).
     */
    memoryReservation?: string | number;
    /**
     * Maximum number of processes.
     */
    pids?: number;
  };
  /**
   * Always (default): berth starts the container whenever it has stopped. OnFailure: only when it exited with a non-zero code. Never: berth leaves a stopped container stopped.
   */
  restartPolicy?: "Always" | "OnFailure" | "Never";
  /**
   * Specs whose containers must be ready before this one's are created (Compose's depends_on): each by name, with the condition — Started (its containers running; the default), Healthy (running and healthy: it needs a healthcheck, the spec's or the image's) or Succeeded (a run that finished with exit code 0). Only creates and replacements wait: a container already made keeps running when a dependency stops. Not under --target swarm.
   *
   * @maxItems 64
   */
  dependsOn?: {
    /**
     * The spec's metadata.name.
     */
    name: string;
    /**
     * Started (default), Healthy or Succeeded.
     */
    condition?: "Started" | "Healthy" | "Succeeded";
  }[];
  /**
   * A command run inside the container to decide whether it is healthy. With StartFirst, a replacement waits for healthy before the old container is removed.
   */
  healthcheck?: {
    command: StringList2;
    /**
     * Time between checks. Default 30s.
     */
    interval?: string;
    /**
     * Time a check may take. Default 30s.
     */
    timeout?: string;
    /**
     * Failures in a row before unhealthy. Default 3.
     */
    retries?: number;
    /**
     * Grace period after start during which failures do not count. Default 0s.
     */
    startPeriod?: string;
  };
  /**
   * Security settings. What is allowed depends on berth's policy profile.
   */
  securityContext?: {
    /**
     * Mount the root filesystem read-only.
     */
    readOnlyRootFilesystem?: boolean;
    /**
     * Forbid gaining privileges (setuid binaries).
     */
    noNewPrivileges?: boolean;
    /**
     * Run privileged (all devices, all capabilities). Only under the privileged policy.
     */
    privileged?: boolean;
    /**
     * Capabilities to add.
     *
     * @maxItems 64
     */
    capAdd?: Capability[];
    /**
     * Capabilities to drop; ALL drops every one.
     *
     * @maxItems 64
     */
    capDrop?: Capability[];
    /**
     * default (Docker's profile), unconfined, or the absolute path of a seccomp profile (JSON) on the controller's host.
     */
    seccompProfile?: string;
    /**
     * An AppArmor profile name, or unconfined.
     */
    apparmorProfile?: string;
    /**
     * SELinux label options, as Docker's --security-opt label=… values (e.g. type:container_t; baseline allows only type:container_t, type:container_init_t and type:container_kvm_t).
     *
     * @maxItems 16
     */
    selinuxOptions?:
      | []
      | [string]
      | [string, string]
      | [string, string, string]
      | [string, string, string, string]
      | [string, string, string, string, string]
      | [string, string, string, string, string, string]
      | [string, string, string, string, string, string, string]
      | [string, string, string, string, string, string, string, string]
      | [string, string, string, string, string, string, string, string, string]
      | [string, string, string, string, string, string, string, string, string, string]
      | [string, string, string, string, string, string, string, string, string, string, string]
      | [
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string
        ]
      | [
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string
        ]
      | [
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string
        ]
      | [
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string
        ]
      | [
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string
        ];
  };
  /**
   * PID namespace: private (default), host, or container:NAME.
   */
  pidMode?: string;
  /**
   * IPC namespace: private (default), shareable, none, host, or container:NAME.
   */
  ipcMode?: string;
  /**
   * UTS namespace: private (default) or host.
   */
  utsMode?: string;
  /**
   * User namespace: private (default) or host.
   */
  usernsMode?: string;
  /**
   * Host devices to expose in the container.
   *
   * @maxItems 64
   */
  devices?: {
    hostPath: AbsolutePath;
    containerPath?: AbsolutePath;
    permissions?: string;
  }[];
  /**
   * Device cgroup rules, as Docker's --device-cgroup-rule (e.g. 'c 1:3 mr').
   *
   * @maxItems 64
   */
  deviceCgroupRules?: string[];
  /**
   * Namespaced kernel parameters.
   */
  sysctls?: {
    [k: string]: string;
  };
  /**
   * The OCI runtime (e.g. runc). Default: the engine's default.
   */
  runtime?: string;
  /**
   * When the container must be gone: an RFC 3339 time, or never (default). At that time berth removes the container and does not recreate it while the file stays. Changing it does not restart the container.
   */
  expiresAt?: string;
  /**
   * How many containers: 1 (default) is named after the spec; more are name-0 … name-(n-1). Changing it does not restart the others.
   */
  replicas?: number;
  /**
   * A warm pool instead of replicas (docs/pools.md): berth keeps `size` unclaimed members (`<name>-<n>`, lowest free n) created and ready (healthy, where the spec has a healthcheck), at most `maxCreating` being made at once; `POST /v1/pools/{name}/claims` (or `berth claim`) takes a ready member out of the pool for one consumer until it is released or expires, and the pool refills. Not with replicas. A claimed member is never replaced by a change of this spec; it is removed when its claim goes. Like Artie's targetSize/minSize/maxCreating.
   */
  pool?: {
    /**
     * How many unclaimed members berth keeps (Artie's targetSize).
     */
    size: number;
    /**
     * Below this many ready members the pool is Pending rather than Running (Artie's minSize). At most size. Default: 1, or 0 for an empty pool.
     */
    minReady?: number;
    /**
     * At most this many members being created or not yet ready at once (Artie's maxCreating). Default 2.
     */
    maxCreating?: number;
  };
  /**
   * Under --target swarm only: where the service's tasks may run, as Swarm's placement (docs/swarm.md). --target engine refuses it: one host has nowhere else to place a container.
   */
  placement?: {
    /**
     * Swarm placement constraints, all of which a node must meet: node.labels.zone==a, node.role!=manager, node.hostname==web-1.
     *
     * @maxItems 32
     */
    constraints?: string[];
    /**
     * Swarm placement preferences, in order: spread the tasks evenly over the values of a node label.
     *
     * @maxItems 8
     */
    preferences?:
      | []
      | [
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          }
        ]
      | [
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          }
        ]
      | [
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          }
        ]
      | [
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          }
        ]
      | [
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          }
        ]
      | [
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          }
        ]
      | [
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          }
        ]
      | [
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          },
          {
            /**
             * The node label to spread over, e.g. node.labels.zone.
             */
            spread: string;
          }
        ];
  };
  /**
   * Under --target swarm only: true runs one task on every node that meets the placement (a global service) instead of `replicas` tasks. Not with replicas or suspended. --target engine refuses it (docs/swarm.md).
   */
  global?: boolean;
  /**
   * How a container is replaced. StartFirst (default): the new container starts (and becomes healthy) before the old one goes. StopFirst: the old one goes first; forced when a host port is published.
   */
  updateStrategy?: "StartFirst" | "StopFirst";
  /**
   * How long a replacement (an image or spec change) must stay up — running, not restarted, not unhealthy — before it counts as done (Kubernetes' minReadySeconds, Swarm's update monitor). With StartFirst the old container keeps running through the wait, and a replacement that exits, restarts or turns unhealthy within it is kept stopped as NAME.rejected (for its logs) while the old one stays: the spec is Failed, naming the exit, and that version (spec and image) is not tried again until the spec or its image changes (berth rollout retry NAME tries it again). Replicas are replaced one at a time (updateParallelism at a time), each batch only after the one before stayed up; a failure holds the rest on their old version. Default: none (done once running, or healthy). Not in the spec hash.
   */
  stableFor?: string;
  /**
   * How many replicas a rollout (an image or spec change) replaces at once: Swarm's update_config.parallelism; Kubernetes' maxSurge under StartFirst, maxUnavailable under StopFirst. Each batch starts once the one before is done: every replacement in it running (healthy, and for its stableFor). A replacement that fails holds the replicas after its batch on their old version. Default 1: one at a time. Not in the spec hash.
   */
  updateParallelism?: number;
  /**
   * A rollout (an image or spec change) replaces only the replicas whose ordinal is at least this number; those below keep their version until it is lowered, as a StatefulSet's rollingUpdate.partition. With replicas 4, updatePartition 3 makes web-3 a canary of the new version; 0 (the default) rolls every replica; replicas or more holds the whole rollout. A replica whose container is gone or dead is made again at the spec's version: berth keeps no older spec. Under --target swarm the canaries run as a second service, NAME_canary, answering to NAME on the spec's networks (docs/swarm.md, Canaries): not with global, a published hostPort, or a name longer than 56. Not with pool, only with restartPolicy Always. Not in the spec hash.
   */
  updatePartition?: number;
  /**
   * Time the process has to exit after SIGTERM before SIGKILL. Default 10s.
   */
  stopTimeout?: string;
  /**
   * The signal that asks the process to stop, before stopTimeout's SIGKILL (Compose's stop_signal). Default: the image's STOPSIGNAL, else SIGTERM.
   */
  stopSignal?: string;
  /**
   * Where the container's output goes (Compose's logging): a log driver and its options. Default: the engine's default driver (json-file, unbounded unless the daemon says otherwise). The baseline policy allows the drivers that keep logs on this host — json-file, local, journald and none — and others (syslog, gelf, fluentd, …) with --allow-log-driver. `berth logs` reads json-file, local and journald.
   */
  logging?: {
    /**
     * The log driver.
     */
    driver: string;
    /**
     * The driver's options, as strings (json-file: max-size, max-file, compress).
     */
    options?: {
      [k: string]: string;
    };
  };
  /**
   * true: keep the spec and its containers, but stopped. Changing it does not recreate the container.
   */
  suspended?: boolean;
  /**
   * Resource limits (setrlimit) of the container's processes, by name: nofile (open files), nproc (processes of the user), memlock (bytes of locked memory), core, stack, … as Docker's --ulimit. Default: none set, the engine's own. The baseline policy caps nofile, memlock, nice and rtprio (docs/policy.md).
   */
  ulimits?: {
    [k: string]: Ulimit;
  };
  /**
   * How long a run may take (restartPolicy Never or OnFailure only), like a Kubernetes Job's activeDeadlineSeconds: counted from when its container was made (berth starts it at once), through any restarts. When it has passed, berth stops the container and the run is Failed with reason DeadlineExceeded. Default: none. Changing it does not restart the container.
   */
  activeDeadline?: string;
  /**
   * How long a finished run (Succeeded or Failed; restartPolicy Never or OnFailure only) is kept, like a Kubernetes Job's ttlSecondsAfterFinished. That long after it finished, berth removes its container and keeps the outcome in a small labelled volume (the run's record), so the spec still reports Succeeded or Failed and the run is not started again; a spec written through the HTTP API is deleted too, and its record with it. 0s removes at once. Default: none (the stopped container stays). Changing it does not restart the container.
   */
  ttlAfterFinished?: string;
  /**
   * With restartPolicy OnFailure: how many times the engine restarts a container that failed before the run is Failed, like a Kubernetes Job's backoffLimit (the engine's on-failure maximum retry count, read back as its restart count). Default: none, restarts without limit (the run finishes only when it succeeds).
   */
  backoffLimit?: number;
  /**
   * Which specs get the host's capacity first when berth runs with --capacity (docs/capacity.md), like a Kubernetes PriorityClass value: containers are admitted highest priority first, then by name; a spec whose containers do not fit in what is left waits Pending with the reason (Unschedulable: needs memory 1Gi, 512Mi free) until room appears. No preemption: a running container is never removed to admit another. Default: 0. Changing it does not restart the container.
   */
  priority?: number;
}
/**
 * Where a secret value comes from: exactly one of fromHostEnv (a variable of the controller's environment) or fromFile (a file on the controller's host). The value is read when the container is created and is never logged or labelled.
 */
export interface SecretRef {
  /**
   * The name of a variable in the controller's environment.
   */
  fromHostEnv?: string;
  /**
   * An absolute path to a file holding the value (a trailing newline is removed).
   */
  fromFile?: string;
}
export interface Bind {
  /**
   * Always bind.
   */
  type: "bind";
  /**
   * The host path. Created (as a directory) when missing, as `docker run -v` does. No ':' or ','.
   */
  source: AbsolutePath;
  /**
   * The path in the container. No ':' or ','.
   */
  target: AbsolutePath;
  /**
   * Mount read-only. Default false.
   */
  readOnly?: boolean;
}
export interface Volume {
  /**
   * Always volume.
   */
  type: "volume";
  /**
   * The volume name; Docker creates it when missing.
   */
  source: string;
  /**
   * The path in the container.
   */
  target: string;
  /**
   * Mount read-only. Default false.
   */
  readOnly?: boolean;
  /**
   * Give each container its own volume, named `<container name>-<source>` (`web-data`; with replicas `web-0-data`, `web-1-data`), as a StatefulSet's volumeClaimTemplates give each ordinal its own claim. berth creates it, labelled, before the container; a replacement of the container (an image or spec change) mounts the same volume, so the data stays; the volume goes when the instance goes (spec deleted, expired, replicas scaled down), as reclaimPolicy says. A spec with a per-instance volume is always replaced StopFirst: two containers never share the volume. Default false: one volume named `source`, shared and never removed by berth.
   */
  perInstance?: boolean;
  /**
   * What happens to a per-instance volume when its instance goes: Delete (default) removes it once no container uses it; Retain keeps it (a new instance of the same name mounts it again). Like a PersistentVolume's persistentVolumeReclaimPolicy. Only with perInstance: true.
   */
  reclaimPolicy?: "Delete" | "Retain";
}
export interface Tmpfs {
  /**
   * Always tmpfs.
   */
  type: "tmpfs";
  /**
   * The path in the container.
   */
  target: string;
  /**
   * Size limit of the tmpfs. Default: unlimited (half the host's memory).
   */
  size?: string | number;
  /**
   * File mode of the tmpfs root, as an integer (e.g. 1777 in YAML is decimal; write 0o1777 for octal).
   */
  mode?: number;
}
/**
 * A container port, published on the host when hostPort is set.
 */
export interface Port {
  /**
   * The port inside the container.
   */
  containerPort: number;
  /**
   * Publish on this host port. Absent: the port is only exposed. `auto`: berth takes the lowest free port of `--host-port-range` (default 10000-20000, within `--allow-host-ports`), skipping ports the engine reports bound by any container and ports a program outside Docker holds; the port is kept across StopFirst replacements and freed when the container goes (docs/ports.md).
   */
  hostPort?: number | string;
  /**
   * The host address to bind. Default 127.0.0.1 (loopback only): write 0.0.0.0 to publish on every interface.
   */
  hostIP?: string;
  /**
   * tcp (default), udp or sctp.
   */
  protocol?: "tcp" | "udp" | "sctp";
  /**
   * Under --target swarm only, with hostPort: ingress (default) publishes the port through Swarm's routing mesh on every node; host binds it on the node that runs each task. --target engine refuses it (docs/swarm.md).
   */
  mode?: "ingress" | "host";
}
/**
 * A Docker network berth creates and keeps, for container specs to join by name (spec.network).
 */
export interface BerthNetwork {
  /**
   * Always berth/v1.
   */
  apiVersion: "berth/v1";
  /**
   * Always Network.
   */
  kind: "Network";
  metadata: ObjectMetadata;
  spec?: NetworkSpec;
}
/**
 * Identity of a declared network or volume: its name (the Docker object's name, as containers refer to it) and labels put on it.
 */
export interface ObjectMetadata {
  /**
   * The Docker name of the network or volume, as a container spec names it in `network:` or a volume mount's `source:`. Letters, digits, _, . and -, starting with a letter or digit, at most 63 characters.
   */
  name: string;
  labels?: LabelMap;
}
/**
 * Labels put on the network or volume. Keys under berth's reserved prefix (berth.) are refused.
 */
export interface LabelMap {
  [k: string]: string;
}
/**
 * How the network is made. A network's configuration cannot change in place: when it changes, berth recreates the network once no container uses it, and reports the drift until then.
 */
export interface NetworkSpec {
  /**
   * The network driver: bridge (default), or overlay; host, macvlan and ipvlan need the privileged policy profile.
   */
  driver?: string;
  /**
   * No route to the outside world (docker network create --internal). Default false.
   */
  internal?: boolean;
  /**
   * Standalone containers may attach (meaningful for overlay). Default false.
   */
  attachable?: boolean;
  /**
   * Driver options (network), as `docker network create -o` sets them. Default: none.
   */
  options?: {
    [k: string]: string;
  };
  /**
   * The IPv4 subnet in CIDR form (IPAM). Default: the engine picks one.
   */
  subnet?: string;
  /**
   * Give the network IPv6 too, as Compose's enable_ipv6 does: each container gets an IPv6 address on it besides its IPv4 one (status reports it under ipv6Addresses). Default false.
   */
  enableIPv6?: boolean;
  /**
   * The IPv6 subnet in CIDR form (IPAM), with enableIPv6: true; a unique local one (fd00::/8) keeps the network private. Default: the engine picks one from its IPv6 pools (an engine without any refuses the network).
   */
  ipv6Subnet?: string;
}
/**
 * A named Docker volume berth creates and keeps, for container specs to mount by name (a volume mount's source).
 */
export interface BerthVolume {
  /**
   * Always berth/v1.
   */
  apiVersion: "berth/v1";
  /**
   * Always Volume.
   */
  kind: "Volume";
  metadata: ObjectMetadata;
  spec?: VolumeSpec;
}
/**
 * How the named volume is made. A volume's configuration cannot change in place, and recreating it would lose its data: when it changes, berth reports the drift and leaves the volume as it is (remove it by hand once unused, and berth creates it anew).
 */
export interface VolumeSpec {
  /**
   * The volume driver: local (default) or a plugin the host has installed.
   */
  driver?: string;
  /**
   * Driver options, as `docker volume create -o` sets them. Default: none. A local volume whose options bind a host path (type: none, o: bind, device: /path) counts as a bind mount of that path for the admission policy.
   */
  options?: {
    [k: string]: string;
  };
}
