/**
 * The partner-side loader served as /widget.js. Plain ES5-ish JavaScript, no framework, kept as
 * a string so both runtimes serve it without a file system (budget: 5 KB gzipped; it is 1.7 KB).
 *
 * Partners paste: <script src="https://HOST/widget.js" data-partner="KEY" async></script>
 * Options (widget.options.ts): data-lang ("en" | "cy"), data-accent ("#0b6e4f"), data-compact,
 * data-start ("letter" | "pledge"), data-max-width ("48rem"), data-title, data-target.
 *
 * The off-switch: before inserting anything the loader asks /api/widget/<key> (a public JSON
 * answer, any origin may read it) whether the partner's widget is on, and for the partner's
 * defaults (language, title). Switched off (by the partner or the campaign), a malformed key, or
 * no answer: it inserts nothing and throws nothing (every failure is caught), so the host page is
 * exactly as if the tag were absent. An unknown key still gets a frame explaining that the key
 * is wrong (no form in it), so whoever pasted it can see why nothing works.
 *
 * Messages: the loader only listens to messages whose origin is exactly ours and whose source is
 * its own frame, and it addresses its "hello" to our exact origin. The frame only answers a
 * hello from one of the partner's allowed origins, and then posts only to that origin.
 * When the supporter reaches "check your email" (a letter or pledge submitted) it dispatches
 * `speakup:submitted` (detail: { partner, action: "letter" | "pledge" }) on the iframe element;
 * it bubbles to document and window, for the partner's own analytics. That is the last thing
 * the host page can know: confirming happens from the supporter's inbox, outside the frame,
 * so the host is never told whether the letter was confirmed or sent. No personal data is ever
 * in a message.
 */
const LOADER_SOURCE = `(function () {
  "use strict";
  if (!window.fetch || !window.URL || !window.postMessage) return;
  var scripts = document.querySelectorAll("script[data-partner]");
  for (var i = 0; i < scripts.length; i++) {
    try { start(scripts[i]); } catch (e) { /* never break the host page */ }
  }
  function start(s) {
    if (s.getAttribute("data-speakup") || !/\\/widget\\.js(\\?|$)/.test(s.src)) return;
    s.setAttribute("data-speakup", "1");
    var origin = new URL(s.src, location.href).origin;
    var key = s.getAttribute("data-partner") || "";
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(key)) return;
    fetch(origin + "/api/widget/" + key, { credentials: "omit", cache: "no-cache" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (cfg) {
        // On: the action. An unknown key: a frame saying the key is wrong (it holds no form),
        // for whoever pasted it. Switched off: nothing at all.
        if (cfg && (cfg.enabled === true || cfg.reason === "unknown")) mount(s, origin, key, cfg);
      })
      .catch(function () { /* off, unreachable or blocked: show nothing */ });
  }
  function mount(s, origin, key, cfg) {
    var q = "partner=" + encodeURIComponent(key);
    var lang = s.getAttribute("data-lang");
    if (lang === "en" || lang === "cy") q += "&lang=" + lang;
    else lang = cfg.lang;
    var accent = (s.getAttribute("data-accent") || "").replace("#", "");
    if (/^[0-9a-fA-F]{6}$/.test(accent)) q += "&accent=" + accent;
    var compact = s.getAttribute("data-compact");
    if (compact !== null && compact !== "false") q += "&compact=1";
    var path = s.getAttribute("data-start") === "pledge" ? "/embed/pledge?" : "/embed?";
    var width = s.getAttribute("data-max-width") || "";
    if (!/^\\d{1,4}(px|rem|em|%)$/.test(width)) width = "40rem";
    var f = document.createElement("iframe");
    // The first request names the page that hosts the frame (its origin only): that is how the
    // partner is credited. Set explicitly, so a page whose own policy sends no referrer still can.
    f.referrerPolicy = "origin";
    f.src = origin + path + q;
    f.title = s.getAttribute("data-title") || (cfg.titles && cfg.titles[lang]) || DEFAULT_TITLE;
    f.style.cssText = "display:block;width:100%;max-width:" + width + ";border:0;height:640px;overflow:hidden";
    f.setAttribute("scrolling", "no");
    var target = s.getAttribute("data-target");
    var where = null;
    try { where = target && document.querySelector(target); } catch (e) { where = null; }
    if (where) where.appendChild(f);
    else if (s.parentNode) s.parentNode.insertBefore(f, s.nextSibling);
    else return;
    var loads = 0;
    f.addEventListener("load", function () {
      if (f.contentWindow) f.contentWindow.postMessage({ type: "speakup:hello" }, origin);
      // Each step is a new page in the frame: bring its top into view (not on the first load).
      if (++loads > 1 && f.getBoundingClientRect().top < 0) f.scrollIntoView({ block: "start" });
    });
    window.addEventListener("message", function (e) {
      if (e.origin !== origin || e.source !== f.contentWindow) return;
      var d = e.data;
      if (!d || typeof d !== "object") return;
      if (d.type === "speakup:resize") {
        var h = Number(d.height);
        if (h > 0 && h < 20000) f.style.height = Math.ceil(h) + "px";
      } else if (d.type === "speakup:submitted") {
        var detail = { partner: key, action: String(d.action).slice(0, 20) };
        // Bubbles from the iframe through document to window: listen on either.
        f.dispatchEvent(new CustomEvent("speakup:submitted", { detail: detail, bubbles: true }));
      }
    });
  }
})();
`;

/**
 * The loader with the frame's default title (read by screen readers; `data-title` overrides it)
 * naming the campaign's hashtag, so a re-skinned campaign's partners show its own name.
 */
export const widgetLoader = (hashtag: string) =>
  LOADER_SOURCE.replace("DEFAULT_TITLE", JSON.stringify(`Write to your MP: ${hashtag}`));

/**
 * Our own pages' script (/static/app.js): progressive enhancement only, every page works without
 * it. Moves focus to an error summary; inside an embed, answers the loader's hello (only from an
 * allowed origin), then reports height changes and a submitted letter or pledge to that exact
 * origin.
 */
export const APP_SCRIPT = `(function () {
  "use strict";
  var root = document.documentElement;
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  var counters = document.querySelectorAll("textarea[maxlength]");
  for (var i = 0; i < counters.length; i++) count(counters[i]);
  function count(t) {
    var out = document.createElement("p");
    out.className = "meta";
    out.setAttribute("aria-live", "polite");
    t.parentNode.insertBefore(out, t.nextSibling);
    var max = Number(t.getAttribute("maxlength"));
    var show = function () { var left = max - t.value.length; out.textContent = left < 500 ? left + " characters left" : ""; };
    t.addEventListener("input", show);
    show();
  }
  var origins = (root.getAttribute("data-embed-origins") || "").split(" ").filter(Boolean);
  if (!origins.length || window.parent === window) return;
  var parentOrigin = null;
  var send = function (m) { if (parentOrigin) window.parent.postMessage(m, parentOrigin); };
  var last = 0;
  var size = function () {
    var h = Math.ceil(document.body.getBoundingClientRect().height);
    if (h !== last) { last = h; send({ type: "speakup:resize", height: h }); }
  };
  window.addEventListener("message", function (e) {
    if (e.source !== window.parent || origins.indexOf(e.origin) < 0) return;
    if (!e.data || e.data.type !== "speakup:hello") return;
    parentOrigin = e.origin;
    last = 0;
    size();
    var done = root.getAttribute("data-submitted");
    if (done) send({ type: "speakup:submitted", action: done });
  });
  if (window.ResizeObserver) new ResizeObserver(size).observe(document.body);
  else window.addEventListener("resize", size);
})();
`;
