// Types for campaign-assets.js, which scripts/precompile-templates.ts generates (git-ignored):
// the pictures beside the campaign files, base64-encoded by file name.
declare const assets: Record<string, { type: string; base64: string }>;
export default assets;
