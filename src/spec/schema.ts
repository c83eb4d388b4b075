/**
 * The container spec schema (schemas/container.schema.json), read once and compiled once with
 * ajv in strict mode. The schema file is the single source of truth: src/core/document.gen.ts is
 * generated from it.
 */
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import type { BerthContainer } from "../core/document.gen.js";

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
let validator: ValidateFunction<BerthContainer> | undefined;

export function schemaSource(): string {
  schemaText ??= readFileSync(SCHEMA_PATH, "utf8");
  return schemaText;
}

export function loadSchema(): JsonSchema {
  return JSON.parse(schemaSource()) as JsonSchema;
}

export function specValidator(): ValidateFunction<BerthContainer> {
  if (!validator) {
    const ajv = new Ajv2020({
      strict: true,
      allErrors: true,
      allowUnionTypes: true,
      discriminator: true,
      verbose: true,
      $data: false,
      messages: true,
    });
    ajv.addVocabulary([EXPECTED_KEYWORD]);
    validator = ajv.compile<BerthContainer>(loadSchema());
  }
  return validator;
}

export type SchemaError = ErrorObject;
