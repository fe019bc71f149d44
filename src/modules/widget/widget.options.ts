/**
 * What a partner can set on its script tag (data attributes), documented once: the partner's
 * widget page, docs/widget-security.md and the README describe these, and the loader
 * (widget.loader.ts) and the embed (widget.embed.ts) read them.
 */
export const widgetOptions = [
  { name: "data-partner", description: "Your partner key (required)." },
  {
    name: "data-lang",
    description:
      "Language of the supporters' pages: en (English) or cy (Cymraeg). Default: the language set on this page.",
  },
  {
    name: "data-accent",
    description:
      "Button and link colour, such as #0b6e4f. Used only if white text on it stays readable (WCAG AA). Default: the colour set on this page, else the campaign's.",
  },
  { name: "data-compact", description: "A tighter layout for narrow columns (no value needed)." },
  {
    name: "data-start",
    description:
      "Where the widget opens: letter (find your MP and write, the default) or pledge (the pledge form).",
  },
  {
    name: "data-max-width",
    description: "The frame's largest width, such as 48rem or 100% (default 40rem).",
  },
  {
    name: "data-title",
    description:
      "The frame's accessible name, read by screen readers (default: Write to your MP: #SpeakUpForBabies).",
  },
  {
    name: "data-target",
    description:
      "A CSS selector such as #speakup: put the frame inside that element instead of after the script tag.",
  },
] as const;
