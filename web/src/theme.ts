// Themes and class palettes: the canvas's colours (the CSS in style.ts has the rest).

export type Theme = "dark" | "light";
export type Palette = "default" | "okabe-ito";

/** The two themes: the canvas background, grid, axes and linear regions' edges. */
export const THEMES: Record<Theme, { bg: number[]; grid: number[]; axes: number[][];
                                     edges: number[] }> = {
  dark: { bg: [0x1a, 0x1a, 0x1f], grid: [0.35, 0.55, 0.85], edges: [0.93, 0.93, 0.96],
          axes: [[1, 0.45, 0.45], [0.45, 0.95, 0.5], [0.5, 0.7, 1]] },
  light: { bg: [0xfb, 0xfb, 0xf8], grid: [0.32, 0.45, 0.66], edges: [0.08, 0.08, 0.12],
           axes: [[0.75, 0.1, 0.1], [0.05, 0.5, 0.15], [0.1, 0.25, 0.8]] },
};

/** Okabe & Ito's colour-blind-safe palette (8 colours; black last, grey on the dark theme). */
export const OKABE_ITO = [[0xe6, 0x9f, 0x00], [0x56, 0xb4, 0xe9], [0x00, 0x9e, 0x73],
  [0xf0, 0xe4, 0x42], [0x00, 0x72, 0xb2], [0xd5, 0x5e, 0x00], [0xcc, 0x79, 0xa7], [0, 0, 0]];

/** The class colours as RGB bytes: the trace's own (spacefold.colors) or Okabe–Ito. */
export function paletteBytes(palette: Palette, theme: Theme, own: Uint8Array): Uint8Array {
  if (palette !== "okabe-ito") return own;
  const pal = OKABE_ITO.map((c, i) =>
    i === 7 && theme === "dark" ? [0x99, 0x99, 0x99] : c);   // black on black: grey
  return Uint8Array.from(pal.flat());
}

/** A THREE-free sRGB triple of a theme colour for CSS. */
export function css(rgb: number[]): string {
  return `rgb(${rgb.map((x) => Math.round(255 * x)).join(",")})`;
}
