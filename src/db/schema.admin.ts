/**
 * Accounts (campaign leads and partner contacts) and their sessions.
 *
 * - Two roles: `lead` (the campaign team: the dashboard) and `partner` (a partner organisation's
 *   contact: only that partner's own pages). A partner account always names its partner and a
 *   lead's never does (CHECK), so no code path can make a partner contact without a partner or
 *   a lead tied to one. Deleting a partner deletes its contacts (and their sessions).
 * - Passwords are argon2id PHC strings (older bcrypt ones are upgraded at sign-in); the plain
 *   password never reaches the database or the logs.
 * - A session row is keyed by the SHA-256 of the cookie's random token, so someone who reads
 *   the table (a backup, a leaked copy) cannot replay a session. Each session carries its own
 *   CSRF token, which every form POST must echo.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { partners } from "./schema.widget";

export const ACCOUNT_ROLES = ["lead", "partner"] as const;
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

export const adminUsers = sqliteTable(
  "admin_users",
  {
    id: text("id").primaryKey(),
    /** Lower-cased. */
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    /** lead: the campaign team; partner: one partner organisation's contact. */
    role: text("role", { enum: ACCOUNT_ROLES }).notNull().default("lead"),
    /** The partner a partner contact belongs to (null for leads). */
    partnerKey: text("partner_key").references(() => partners.key, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull(),
    lastSignInAt: integer("last_sign_in_at"),
  },
  (t) => [
    uniqueIndex("admin_users_email_uq").on(t.email),
    index("admin_users_partner_ix").on(t.partnerKey),
    check("admin_users_email_ck", sql`${t.email} = lower(${t.email})`),
    check("admin_users_role_ck", sql`${t.role} in ('lead','partner')`),
    check("admin_users_partner_ck", sql`(${t.role} = 'partner') = (${t.partnerKey} is not null)`),
  ],
);

export const adminSessions = sqliteTable(
  "admin_sessions",
  {
    /** Hex SHA-256 of the session token held in the cookie. */
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => adminUsers.id, { onDelete: "cascade" }),
    csrfToken: text("csrf_token").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("admin_sessions_expires_ix").on(t.expiresAt), index("admin_sessions_user_ix").on(t.userId)],
);
