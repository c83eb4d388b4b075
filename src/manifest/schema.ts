/**
 * The container spec schema (schemas/container.schema.json) and its validator. The schema file is
 * the single source of truth: src/core/document.gen.ts (the types) and src/spec/validate.gen.ts
 * (ajv's standalone validator, strict mode) are generated from it by `npm run gen`, so that no
 * berth process loads ajv or compiles the schema (about 180 ms of every command's start).
 */
import { readFileSync } from "node:fs";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { BerthContainer, BerthNetwork, BerthVolume } from "../core/document.gen.js";
import { validateContainer, validateNetwork, validateVolume } from "./validate.gen.js";

/** Resolves the same from src/spec/ (tests) and dist/spec/ (the built CLI). */
export const SCHEMA_PATH = new URL("../../schemas/container.schema.json", import.meta.url);

/** Our annotation keyword: a short phrase for error messages ("a quantity"). */
export const EXPECTED_KEYWORD = "x-expected";

export type JsonSchema = {
  readonly [EXPECTED_KEYWORD]?: string;
  readonly examples?: readonly unknown[];
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
};

let schemaText: string | undefined;

export function schemaSource(): string {
  schemaText ??= readFileSync(SCHEMA_PATH, "utf8");
  return schemaText;
}

export function loadSchema(): JsonSchema {
  return JSON.parse(schemaSource()) as JsonSchema;
}

export function specValidator(): ValidateFunction<BerthContainer> {
  return validateContainer as unknown as ValidateFunction<BerthContainer>;
}

/** The validators of the declared-object kinds (`kind: Network`, `kind: Volume`). */
export function networkValidator(): ValidateFunction<BerthNetwork> {
  return validateNetwork as unknown as ValidateFunction<BerthNetwork>;
}

export function volumeValidator(): ValidateFunction<BerthVolume> {
  return validateVolume as unknown as ValidateFunction<BerthVolume>;
}

export type SchemaError = ErrorObject;
