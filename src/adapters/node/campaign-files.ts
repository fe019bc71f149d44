/**
 * The campaign files as `npm start` reads them at start-up (an edit needs a restart, not a
 * rebuild): data/campaigns/*.json and the pictures beside them. No other Node dependency, so the
 * Workers build script can bundle the same pictures.
 */
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../../env";
import { assetType, type CampaignAssets } from "../../modules/letters/letters.campaign";
import { projectRoot } from "./root";

const CAMPAIGNS_DIR = resolve(projectRoot(), "data/campaigns");

/**
 * data/campaigns/*.json as read now (so a campaign lead's edit needs a restart, not a rebuild).
 * parseEnv picks CAMPAIGN_ID's file and validates it.
 */
export function readCampaignFiles(dir = CAMPAIGNS_DIR): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".json")) continue;
    try {
      out[name.replace(/\.json$/, "")] = JSON.parse(readFileSync(resolve(dir, name), "utf8"));
    } catch (e) {
      throw new ConfigError(
        `Invalid configuration:\n  CAMPAIGN_ID: data/campaigns/${name} is not valid JSON (${(e as Error).message})`,
      );
    }
  }
  return out;
}

/**
 * The pictures beside the campaign files (logos, hero images), by file name, as read now. Only
 * names a campaign file may use are read (ASSET_NAME); parseEnv checks the ones the campaign names.
 */
export function readCampaignAssets(dir = CAMPAIGNS_DIR): CampaignAssets {
  const out: CampaignAssets = {};
  for (const name of readdirSync(dir)) {
    const type = assetType(name);
    if (type) out[name] = { type, body: new Uint8Array(readFileSync(resolve(dir, name))) };
  }
  return out;
}
