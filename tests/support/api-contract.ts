/**
 * The API contract, checked on every response the route tests see: a JSON answer from /api/*
 * must match the schema the OpenAPI document (src/modules/api/api.openapi.ts) gives for its
 * route and status, and errors must be problem+json. testApp's `request` runs this after each
 * call, so any route test that produces an undocumented or mismatching response fails there,
 * naming the route, the status and what did not match.
 */
import { operationFor, responseSchema } from "../../src/modules/api/api.openapi";
import { Problem } from "../../src/modules/api/api.schemas";

export class ContractError extends Error {
  override name = "ContractError";
}

const methodOf = (input: unknown, init?: RequestInit) =>
  (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
const pathOf = (input: unknown) =>
  new URL(input instanceof Request ? input.url : String(input), "http://localhost").pathname;

/** How many responses were checked in this process (a test asserts the hook is in use). */
export const checked = { count: 0 };

export async function checkApiResponse(input: unknown, init: RequestInit | undefined, res: Response) {
  const path = pathOf(input);
  const method = methodOf(input, init);
  if (!path.startsWith("/api/") || method === "OPTIONS" || method === "HEAD") return;
  const type = res.headers.get("content-type") ?? "";
  const where = `${method} ${path} -> ${res.status}`;
  if (res.status >= 400 && !type.startsWith("application/problem+json"))
    throw new ContractError(`${where}: an error must be application/problem+json, got "${type}"`);
  if (!type.includes("json")) throw new ContractError(`${where}: expected JSON, got "${type}"`);
  const op = operationFor(method, path);
  // A refusal before any route (no such path or method, a body too large) is still a problem.
  const schema = op ? responseSchema(op, res.status) : res.status >= 400 ? Problem : undefined;
  if (!op && !schema) throw new ContractError(`${where}: no operation in the OpenAPI document`);
  if (!schema) throw new ContractError(`${where}: status ${res.status} is not documented for ${op?.path}`);
  const text = await res.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ContractError(`${where}: not JSON: ${text.slice(0, 200)}`);
  }
  const result = schema.safeParse(body);
  if (!result.success)
    throw new ContractError(
      `${where}: does not match its documented schema:\n${result.error.issues
        .slice(0, 8)
        .map((i) => `  ${i.path.join(".")}: ${i.message}`)
        .join("\n")}\nbody: ${text.slice(0, 500)}`,
    );
  checked.count++;
}
