/** Sign a campaign lead in through the real forms and keep their cookie and CSRF token. */
import { expect } from "vitest";
import { createUser } from "../../src/modules/admin/admin.auth";
import { pledgeTestApp } from "./pledges";

export const ORIGIN = "http://localhost";
export const ADMIN = { email: "lead@speakup.invalid", password: "correct horse battery staple" };

export function cookieFrom(res: Response, name: string): string | undefined {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const [k, v] = (pair ?? "").split("=");
    if (k === name) return v;
  }
  return undefined;
}

export const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

type T = ReturnType<typeof pledgeTestApp>;

export async function signInForm(t: T, creds = ADMIN, headers: Record<string, string> = {}) {
  const page = await t.request("/admin/sign-in");
  const signinCookie = cookieFrom(page, "speakup_signin") ?? "";
  const csrf = csrfIn(await page.text());
  return t.request("/admin/sign-in", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: ORIGIN,
      cookie: `speakup_signin=${signinCookie}`,
      ...headers,
    },
    body: new URLSearchParams({ _csrf: csrf, email: creds.email, password: creds.password }).toString(),
  });
}

export async function adminApp(env: Record<string, string> = {}) {
  const t = pledgeTestApp({ ...env });
  await createUser(t.deps, ADMIN);
  const res = await signInForm(t);
  expect(res.status).toBe(303);
  const session = cookieFrom(res, "speakup_admin");
  if (!session) throw new Error("no session cookie");
  const cookie = `speakup_admin=${session}`;
  const dash = await t.request("/admin", { headers: { cookie } });
  const csrf = csrfIn(await dash.text());
  const get = (path: string) => t.request(path, { headers: { cookie } });
  const post = (path: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    t.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie, ...headers },
      body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
    });
  return { ...t, cookie, csrf, get, post, session };
}
