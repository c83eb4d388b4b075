/** The images a Dockerfile pulls (core/build.ts, baseImages): whose registries' credentials go with a build. */
import { describe, expect, it } from "vitest";
import { baseImages } from "../../../src/core/build.js";

describe("baseImages", () => {
  it.each<[string, string, Record<string, string>, string[]]>([
    ["one FROM", "FROM ghcr.io/team/app:1\nRUN true\n", {}, ["ghcr.io/team/app:1"]],
    [
      "stages, scratch, --platform and case",
      "from --platform=linux/amd64 r.example/base:1 as build\nFROM build AS test\nFROM scratch\nFrom BUILD\n",
      {},
      ["r.example/base:1"],
    ],
    [
      "COPY --from: an image, not a stage's name or index",
      "FROM a.example/x AS deps\nFROM b.example/y\nCOPY --from=deps /a /a\nCOPY --from=0 /b /b\nCOPY --chown=1:1 --from=c.example/z:3 /c /c\n",
      {},
      ["a.example/x", "b.example/y", "c.example/z:3"],
    ],
    [
      "global ARG defaults, overridden by the build's args",
      "ARG REG=r.example\nARG TAG=1\nFROM $REG/app:${TAG}\n",
      { TAG: "2" },
      ["r.example/app:2"],
    ],
    ["${VAR:-word} and an undeclared ARG", "FROM ${BASE:-d.example/app}\nFROM $NOPE/app\n", {}, ["d.example/app"]],
    ["an ARG with no value: the line is skipped", "ARG BASE\nFROM ${BASE}\n", {}, []],
    [
      "an ARG after the first FROM is not the FROM's",
      "FROM x.example/a\nARG B=y.example/b\nFROM $B\n",
      {},
      ["x.example/a"],
    ],
    [
      "comments, continuations and the escape directive",
      "# escape=`\n# FROM commented.example/no\nFROM `\n  e.example/app:1 `\n  AS s\n",
      {},
      ["e.example/app:1"],
    ],
    ["each image once", "FROM f.example/a\nFROM f.example/a\n", {}, ["f.example/a"]],
  ])("%s", (_name, dockerfile, args, images) => {
    expect(baseImages(dockerfile, args)).toEqual(images);
  });
});
