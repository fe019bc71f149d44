import type { Deps } from "../deps";

export type AppEnv = {
  Variables: {
    deps: Deps;
    requestId: string;
    /** Set by the widget's /embed routes: the partner the page is rendered for (see modules/widget). */
    embed?: import("../modules/widget/widget.embed").EmbedContext;
  };
};
