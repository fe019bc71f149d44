/**
 * Partner sites that embed the widget. A partner's key is public (it sits in the partner's page),
 * so it grants nothing by itself: the browser only lets the embed render inside the partner's
 * allowed origins (CSP frame-ancestors), and only those origins get CORS answers and messages.
 *
 * Two switches: `active` is the campaign's (a lead switches a partnership off: no embed, no
 * credit, no CORS); `embed_enabled` is the partner's own (it hides the widget on its pages, e.g.
 * while a page is being rebuilt, and keeps everything else). The loader shows nothing unless both
 * are on.
 */
import { sql } from "drizzle-orm";
import { check, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const partners = sqliteTable(
  "partners",
  {
    /** Short public key used in `data-partner` and recorded on letters and pledges (partner_key). */
    key: text("key").primaryKey(),
    name: text("name").notNull(),
    /** JSON array of exact origins ("https://example.org"), each scheme://host[:port], no path. */
    allowedOrigins: text("allowed_origins", { mode: "json" }).$type<string[]>().notNull(),
    /** Switched off partners keep their history but the embed refuses to run for them. */
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    /** The partner's own off-switch for its embed (self-service). */
    embedEnabled: integer("embed_enabled", { mode: "boolean" }).notNull().default(true),
    /** Default accent (6 hex digits, no '#'), used when the page's data-accent is absent. */
    accent: text("accent"),
    /** Default language of the embed ("en" or "cy") when the page's data-lang is absent. */
    lang: text("lang").notNull().default("en"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check(
      "partners_key_ck",
      sql`${t.key} glob '[a-z0-9]*' and length(${t.key}) between 1 and 40 and ${t.key} not glob '*[^a-z0-9-]*'`,
    ),
    check(
      "partners_origins_ck",
      sql`json_valid(${t.allowedOrigins}) and json_type(${t.allowedOrigins}) = 'array'`,
    ),
    check(
      "partners_accent_ck",
      sql`${t.accent} is null or (length(${t.accent}) = 6 and ${t.accent} not glob '*[^0-9a-f]*')`,
    ),
    check("partners_lang_ck", sql`${t.lang} in ('en','cy')`),
  ],
);
