/**
 * The verification samples partners copy: shown on /docs/webhooks and printed verbatim in
 * docs/webhooks.md. A test checks the two agree and runs the Node sample against a real signed
 * delivery, so the documented code is known to work.
 */
/**
 * Lines rather than one template literal: the Workers bundle check (scripts/check-worker-bundle.ts)
 * reads a line starting `import … from "node:…"` as a real import, and this is only text.
 */
export const VERIFY_SAMPLE_NODE = [
  "// Verify a #SpeakUpForBabies webhook: Node 18+, no dependencies.",
  'import { createHmac, timingSafeEqual } from "node:crypto";',
  "",
  "const TOLERANCE_SECONDS = 5 * 60; // the replay window: refuse older (or future) timestamps",
  "",
  "export function verifyWebhook(secret, headers, rawBody, nowSeconds = Math.floor(Date.now() / 1000)) {",
  '  const id = headers["webhook-id"];',
  '  const timestamp = headers["webhook-timestamp"];',
  '  const signatures = headers["webhook-signature"];',
  "  if (!id || !timestamp || !signatures || !/^\\d+$/.test(timestamp)) return false;",
  "  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return false;",
  '  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: sample code for partners, printed as written
  '  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${rawBody}`).digest();',
  "  // During a secret rotation there are two signatures, space-separated: either may match.",
  '  return signatures.split(" ").some((entry) => {',
  '    const [version, signature] = entry.split(",");',
  '    if (version !== "v1" || !signature) return false;',
  '    const given = Buffer.from(signature, "base64");',
  "    return given.length === expected.length && timingSafeEqual(given, expected);",
  "  });",
  "}",
  "",
].join("\n");

export const VERIFY_SAMPLE_PYTHON = `# Verify a #SpeakUpForBabies webhook: Python 3.9+, standard library only.
import base64, hashlib, hmac, time

TOLERANCE_SECONDS = 5 * 60  # the replay window: refuse older (or future) timestamps

def verify_webhook(secret: str, headers: dict, raw_body: bytes) -> bool:
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures) or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + raw_body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # During a secret rotation there are two signatures, space-separated: either may match.
    for entry in signatures.split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False
`;
