/**
 * A typed client of the Casewire API: openapi-fetch over the types openapi-typescript generated from
 * the gateway's OpenAPI document (`src/schema.d.ts`, from `openapi.json`; `scripts/client.sh generate`).
 *
 *     const casewire = casewireClient({ baseUrl: "https://casewire.example.org", token });
 *     const { data, error } = await casewire.GET("/api/v1/alerts/{alert_id}", { params: { path: { alert_id } } });
 *
 * `data` is the operation's documented answer; `error` a problem (`Problem`: `type`, `title`, `status`,
 * `detail`, `errors`), as docs/problems.md describes.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";
export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

export interface Options {
  /** Where the gateway answers, e.g. `https://casewire.example.org` (no `/api/v1`). */
  baseUrl: string;
  /** A bearer token from the agency's identity provider. */
  token: string;
  /** Sent as `X-Purpose` (C9, C25): why you read or search. */
  purpose?: string;
  /** Sent as `X-Case-Number` (C9). */
  caseNumber?: string;
}

export function casewireClient(options: Options): Client<paths> {
  const headers: Record<string, string> = { Authorization: `Bearer ${options.token}` };
  if (options.purpose) headers["X-Purpose"] = options.purpose;
  if (options.caseNumber) headers["X-Case-Number"] = options.caseNumber;
  return createClient<paths>({ baseUrl: options.baseUrl, headers });
}

/** Thrown for an answer that is a problem rather than the operation's answer. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
  }
}

/** The answer's data, or a {@link ProblemError} when the gateway answered a problem. */
export function answer<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    const problem = result.error as Problem | undefined;
    throw problem?.type ? new ProblemError(problem) : new Error(`HTTP ${result.response.status} without a body`);
  }
  return result.data;
}
