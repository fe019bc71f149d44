/**
 * A partner's webhook endpoint for tests: a real node:http server on 127.0.0.1 that records each
 * request (headers and raw body) and answers as the test says (a status, a redirect, a body, or
 * no answer at all).
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export type Received = { method: string; path: string; headers: IncomingHttpHeaders; body: string };
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | "hang";

export async function startReceiver(answer: (n: number, r: Received) => Answer = () => ({ status: 204 })) {
  const received: Received[] = [];
  let respond = answer;
  const hanging = new Set<import("node:http").ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      received.push(r);
      const a = respond(received.length, r);
      if (a === "hang") return void hanging.add(res);
      res.writeHead(a.status, a.headers).end(a.body ?? "");
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/speakup`,
    port,
    received,
    answer(a: typeof answer) {
      respond = a;
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
