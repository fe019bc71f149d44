/**
 * Campaign leads' accounts and their sessions.
 *
 * - Passwords are bcrypt hashes; the plain password never reaches the database or the logs.
 * - A session row is keyed by the SHA-256 of the cookie's random token, so someone who reads
 *   the table (a backup, a leaked copy) cannot replay a session. Each session carries its own
 *   CSRF token, which every form POST must echo.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const adminUsers = sqliteTable(
  "admin_users",
  {
    id: text("id").primaryKey(),
    /** Lower-cased. */
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    lastSignInAt: integer("last_sign_in_at"),
  },
  (t) => [
    uniqueIndex("admin_users_email_uq").on(t.email),
    check("admin_users_email_ck", sql`${t.email} = lower(${t.email})`),
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
