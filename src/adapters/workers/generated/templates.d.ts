// Types for templates.js, which scripts/precompile-templates.ts generates (git-ignored).
import type { PrecompiledTemplates } from "../../../lib/templates";

declare const templates: PrecompiledTemplates;
export default templates;
