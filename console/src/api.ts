/**
 * The API through the typed client of clients/typescript, and what the signed-in roles may do.
 *
 * `may("POST /api/v1/alerts/{alert_id}/dismiss")` is true when one of the caller's roles is among the
 * operation's `x-casewire-roles` in the gateway's OpenAPI document (vite.config.ts): the console hides
 * what the gateway would refuse, and the gateway still decides every request.
 */
import { casewireClient, ProblemError, type Problem } from "@casewire/client";
import operationRoles from "virtual:casewire-roles";
import { createContext, useContext } from "react";
import type { Session } from "./session";

export { answer, ProblemError } from "@casewire/client";
export type { Schemas } from "@casewire/client";

export const PURPOSE_REQUIRED = "https://casewire.io/problems/purpose-required";

export interface Purpose {
  purpose?: string;
  caseNumber?: string;
}

export interface Api {
  readonly session: Session;
  client: (purpose?: Purpose) => ReturnType<typeof casewireClient>;
  may: (operation: string) => boolean;
  tileUrl: string | null;
}

/**
 * The API as the signed-in user. `current()` is read at each request, so a renewed access token is
 * used at once without remaking the clients (and the screens that hold them).
 */
export function makeApi(current: () => Session, tileUrl: string | null): Api {
  const make = (purpose?: Purpose) => {
    const client = casewireClient({ baseUrl: location.origin, token: current().token, ...purpose });
    client.use({
      onRequest: ({ request }) => {
        request.headers.set("Authorization", `Bearer ${current().token}`);
        return request;
      },
    });
    return client;
  };
  const plain = make();
  return {
    get session() {
      return current();
    },
    tileUrl,
    client: (purpose) => (purpose?.purpose ? make(purpose) : plain),
    may: (operation) => (operationRoles[operation] ?? []).some((role) => current().identity.roles.includes(role)),
  };
}

export const ApiContext = createContext<Api | null>(null);

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi outside a signed-in console");
  return api;
}

export function problemOf(error: unknown): Problem | null {
  return error instanceof ProblemError ? error.problem : null;
}

export function describe(error: unknown): string {
  const problem = problemOf(error);
  if (problem?.status === 401) return "Your sign-in has ended: sign out and sign in again.";
  if (problem) {
    const fields = problem.errors ? ` (${Object.keys(problem.errors).join(", ")})` : "";
    return `${problem.title}: ${problem.detail}${fields}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A fresh Idempotency-Key: a retried POST is not done twice. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}
