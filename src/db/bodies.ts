/**
 * The parliaments a representative can sit in. A leaf module (no imports), so every schema file
 * can use it however the modules' cycle (schema.ts re-exports them all) happens to be entered.
 */
export const BODIES = ["uk_parliament", "scottish_parliament", "senedd", "ni_assembly"] as const;
export type Body = (typeof BODIES)[number];
export const DEVOLVED_BODIES = ["scottish_parliament", "senedd", "ni_assembly"] as const;
export type DevolvedBody = (typeof DEVOLVED_BODIES)[number];
