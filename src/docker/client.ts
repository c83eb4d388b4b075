/**
 * The one module that loads dockerode (after lazy-modules.ts, which defers the parts berth does
 * not use). The adapter and container-io.ts take the client and its types from here.
 */
import "./lazy-modules.js";
import Docker from "dockerode";

export { Docker };
export type DockerClient = Docker;
export type DockerExec = Docker.Exec;
export type DockerOptions = Docker.DockerOptions;
export type ContainerCreateOptions = Docker.ContainerCreateOptions;
