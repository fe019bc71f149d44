/**
 * msw for outbound HTTP (postcodes.io, Members API, Democracy Club). Any request without a
 * handler fails the test. Call `useMsw()` at the top of a test file that needs it.
 */
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";

export const mswServer = setupServer();

export function useMsw() {
  beforeAll(() => mswServer.listen({ onUnhandledRequest: "error" }));
  afterEach(() => mswServer.resetHandlers());
  afterAll(() => mswServer.close());
  return mswServer;
}
