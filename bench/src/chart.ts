import { formatNumber } from "./format.js";
import type { CaseResult, Results, Unit } from "./results_schema.js";

/**
 * A hand-written SVG (no chart library: the picture is simple and must render on GitHub):
 * one panel per unit (throughput, match cost, latency), grouped horizontal bars per case,
 * threadbus beside each peer, on a log scale because the subjects span four orders of magnitude.
 */
const WIDTH = 1000;
const LABEL_WIDTH = 300;
const BAR_HEIGHT = 14;
const BAR_GAP = 4;
const GROUP_GAP = 16;
const PLOT_WIDTH = WIDTH - LABEL_WIDTH - 110;
const OURS = ["#e4572e", "#f59e0b", "#b8321a", "#f4a582"];
const PEERS = ["#4c78a8", "#72b7b2", "#9d9d9d", "#b279a2", "#54a24b", "#8c6d31", "#6b6ecf", "#17becf"];

const PANELS: readonly { unit: Unit; title: string }[] = [
  { unit: "events/s", title: "Throughput: events/s (longer is better)" },
  { unit: "ns/op", title: "Subscription index: ns per lookup (shorter is better)" },
  {
    unit: "µs",
    title: "Latency at fixed offered rates: p50 (solid) and p99 (light), µs (shorter is better)",
  },
];

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function logScale(values: readonly number[]): { x: (v: number) => number; ticks: number[] } {
  const positive = values.filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  const span = Math.max(1, Math.log10(hi) - Math.log10(lo));
  const ticks: number[] = [];
  for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  return { x: (v) => (Math.max(0, Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * PLOT_WIDTH, ticks };
}

/** Each subject keeps one colour in every group and panel: oranges for threadbus, others for peers. */
class PeerColours {
  readonly #ours = new Map<string, string>();
  readonly #peers = new Map<string, string>();

  of(subject: string, threadbus: boolean): string {
    const [assigned, palette] = threadbus ? [this.#ours, OURS] : [this.#peers, PEERS];
    let colour = assigned.get(subject);
    if (colour === undefined) {
      colour = palette[assigned.size % palette.length]!;
      assigned.set(subject, colour);
    }
    return colour;
  }
}

function panel(
  title: string,
  cases: readonly CaseResult[],
  top: number,
  colours: PeerColours,
): { svg: string; height: number } {
  const values = cases.flatMap((c) => c.measurements.flatMap((m) => [m.value, m.p99 ?? m.value]));
  if (values.length === 0) return { svg: "", height: 0 };
  const { x, ticks } = logScale(values);
  const parts: string[] = [`<text x="10" y="${top + 18}" class="title">${escapeXml(title)}</text>`];
  let y = top + 34;
  const plotTop = y;
  for (const c of cases) {
    parts.push(`<text x="10" y="${y + 11}" class="case">${escapeXml(c.label)}</text>`);
    y += BAR_HEIGHT + BAR_GAP;
    for (const m of c.measurements) {
      const color = colours.of(m.subject, m.threadbus);
      parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 11}" class="label">${escapeXml(m.subject)}</text>`);
      if (m.p99 !== undefined) {
        parts.push(
          `<rect x="${LABEL_WIDTH}" y="${y}" width="${x(m.p99).toFixed(1)}" height="${BAR_HEIGHT}" fill="${color}" opacity="0.35"/>`,
        );
      }
      const end = Math.max(x(m.value), 1);
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${end.toFixed(1)}" height="${BAR_HEIGHT}" fill="${color}"/>`,
      );
      const shown =
        m.p99 === undefined ? formatNumber(m.value) : `${formatNumber(m.value)} / ${formatNumber(m.p99)}`;
      const labelX = LABEL_WIDTH + Math.max(end, m.p99 === undefined ? 0 : x(m.p99)) + 4;
      parts.push(`<text x="${labelX.toFixed(1)}" y="${y + 11}" class="value">${shown}</text>`);
      y += BAR_HEIGHT + BAR_GAP;
    }
    for (const s of c.skipped) {
      parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 11}" class="label">${escapeXml(s.subject)}</text>`);
      parts.push(
        `<text x="${LABEL_WIDTH + 4}" y="${y + 11}" class="skipped">skipped: ${escapeXml(s.reason)}</text>`,
      );
      y += BAR_HEIGHT + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  for (const tick of ticks) {
    const tx = (LABEL_WIDTH + x(tick)).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${plotTop}" x2="${tx}" y2="${y - GROUP_GAP}" class="grid"/>`);
    parts.push(`<text x="${tx}" y="${y - GROUP_GAP + 12}" class="tick">${formatNumber(tick)}</text>`);
  }
  return { svg: parts.join("\n"), height: y - top + 10 };
}

export function renderChart(results: Results): string {
  const cases = results.scenarios.flatMap((s) => s.cases);
  const sections: string[] = [];
  let y = 40;
  const colours = new PeerColours();
  for (const { unit, title } of PANELS) {
    const inPanel = cases.filter((c) => c.measurements.some((m) => m.unit === unit));
    const { svg, height } = panel(title, inPanel, y, colours);
    sections.push(svg);
    y += height;
  }
  const m = results.machine;
  const subtitle = `${results.date.slice(0, 10)} · ${m.cpuModel} x${m.cpuCount} · Node ${results.node}${results.quick ? " · QUICK run (not for comparison)" : ""}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 10}" viewBox="0 0 ${WIDTH} ${y + 10}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>
.title { font-size: 15px; font-weight: 600; fill: #222; }
.case { font-size: 12px; font-weight: 600; fill: #333; }
.label { font-size: 11px; fill: #333; text-anchor: end; }
.value { font-size: 11px; fill: #333; }
.skipped { font-size: 11px; fill: #999; font-style: italic; }
.tick { font-size: 10px; fill: #777; text-anchor: middle; }
.grid { stroke: #ddd; stroke-width: 1; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="20" class="title">threadbus benchmarks (log scales; threadbus in orange)</text>
<text x="10" y="34" class="value">${escapeXml(subtitle)}</text>
${sections.join("\n")}
</svg>
`;
}
