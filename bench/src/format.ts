import type { Extra, Unit } from "./results_schema.js";

/** 1234567 -> "1.23 M", 950 -> "950". */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)} G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)} k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatBytes(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 2 ** 30) return `${(value / 2 ** 30).toFixed(1)} GiB`;
  if (abs >= 1 << 20) return `${(value / (1 << 20)).toFixed(1)} MiB`;
  if (abs >= 1 << 10) return `${(value / (1 << 10)).toFixed(1)} KiB`;
  return `${value.toFixed(0)} B`;
}

export function formatValue(value: number, unit: Unit): string {
  return unit === "bytes" ? formatBytes(value) : `${formatNumber(value)} ${unit}`;
}

export function formatRatio(ratio: number): string {
  if (ratio >= 10) return `${ratio.toFixed(0)}x`;
  // Two significant digits below 0.1, so 0.004x does not print as "0.00x".
  return ratio >= 0.1 ? `${ratio.toFixed(2)}x` : `${ratio.toPrecision(2)}x`;
}

/** "deliveries 1.23 M events/s", "dispatcher CPU 12.0 % of a core". */
export function formatExtra(extra: Extra): string {
  const value =
    extra.unit === "bytes"
      ? formatBytes(extra.value)
      : extra.unit === "% of a core"
        ? `${extra.value.toFixed(1)} % of a core`
        : `${formatNumber(extra.value)} ${extra.unit}`;
  return `${extra.name} ${value}`;
}

export function formatExtras(extras: readonly Extra[] | undefined): string {
  return (extras ?? []).map(formatExtra).join(", ");
}
