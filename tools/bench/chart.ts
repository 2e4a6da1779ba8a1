// The results at a glance: a self-contained SVG with one panel per figure, grouped by workload,
// a horizontal bar per server (one colour each, the Node floor its own) labelled with its value,
// and sluice's ratios to the others.
import { COLUMNS, formatRatio, formatValue, type Column, type MedianFigure } from './figures';
import type { TargetResult } from './report';

const COLOURS: Record<Column, string> = { sluice: '#1f6fb4', s3rver: '#e3791b', nginx: '#2f9a3a', floor: '#8e44ad', limit: '#7a7a7a' };
const NAMES: Record<Column, string> = { sluice: 'sluice', s3rver: 's3rver', nginx: 'nginx', floor: 'node floor', limit: 'limit' };

const PANEL_W = 320;
const PANEL_H = 214;
const PER_ROW = 4;
const GAP = 16;
const MARGIN = 24;
const BAR_H = 20;
const FONT = 'font-family="DejaVu Sans, Verdana, Arial, sans-serif"';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Splits a title into lines of at most `width` characters at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

function panel(f: MedianFigure, x: number, y: number): string {
  const parts: string[] = [];
  parts.push(`<rect x="${x}" y="${y}" width="${PANEL_W}" height="${PANEL_H}" rx="6" fill="#fafafa" stroke="#d0d0d0"/>`);
  const title = wrap(f.label + (f.limitName !== undefined && f.values.limit !== undefined && f.values.sluice !== undefined ? ` (limit: ${f.limitName})` : ''), 44);
  title.slice(0, 2).forEach((line, i) => {
    parts.push(`<text x="${x + 10}" y="${y + 18 + i * 15}" ${FONT} font-size="12.5" font-weight="bold" fill="#222">${esc(line)}</text>`);
  });
  const arrow = f.better === 'higher' ? 'higher is better' : 'lower is better';
  parts.push(`<text x="${x + PANEL_W - 10}" y="${y + 50}" ${FONT} font-size="10.5" fill="#666" text-anchor="end">${esc(`${f.unit}, ${arrow}`)}</text>`);
  const shown = COLUMNS.filter((c) => f.values[c] !== undefined);
  const max = Math.max(...shown.map((c) => f.values[c] as number), 1e-9);
  const labelW = 52;
  const barMax = PANEL_W - 20 - labelW - 70;
  shown.forEach((c, i) => {
    const value = f.values[c] as number;
    const by = y + 58 + i * (BAR_H + 4);
    const w = Math.max(1, (value / max) * barMax);
    parts.push(`<text x="${x + 10}" y="${by + 14}" ${FONT} font-size="10" fill="#333">${NAMES[c]}</text>`);
    parts.push(`<rect x="${x + 10 + labelW}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLOURS[c]}"/>`);
    parts.push(`<text x="${x + 14 + labelW + w}" y="${by + 14}" ${FONT} font-size="11" fill="#222">${esc(formatValue(value))}</text>`);
  });
  const ratios = (['s3rver', 'nginx', 'floor', 'limit'] as const)
    .filter((c) => f.ratios[c] !== undefined)
    .map((c) => `÷${c} ${formatRatio(f.ratios[c])}`);
  if (ratios.length > 0) {
    const lines = wrap(`sluice ${ratios.join('  ')}`, 50);
    lines.forEach((line, i) => {
      parts.push(`<text x="${x + 10}" y="${y + PANEL_H - 8 - (lines.length - 1 - i) * 13}" ${FONT} font-size="11" fill="${COLOURS.sluice}">${esc(line)}</text>`);
    });
  }
  return parts.join('\n');
}

export function svgChart(title: string, subtitle: string, figures: MedianFigure[], targets: TargetResult[]): string {
  const shown = figures.filter((f) => Object.keys(f.values).length > 0);
  const width = MARGIN * 2 + PER_ROW * PANEL_W + (PER_ROW - 1) * GAP;
  const body: string[] = [];
  let y = MARGIN;
  body.push(`<text x="${MARGIN}" y="${y + 16}" ${FONT} font-size="20" font-weight="bold" fill="#111">${esc(title)}</text>`);
  body.push(`<text x="${MARGIN}" y="${y + 36}" ${FONT} font-size="12" fill="#555">${esc(subtitle)}</text>`);
  let lx = MARGIN;
  for (const c of COLUMNS) {
    body.push(`<rect x="${lx}" y="${y + 46}" width="14" height="14" fill="${COLOURS[c]}"/>`);
    body.push(`<text x="${lx + 19}" y="${y + 58}" ${FONT} font-size="12" fill="#333">${NAMES[c]}</text>`);
    lx += 90;
  }
  y += 76;
  const groups = new Map<string, MedianFigure[]>();
  for (const f of shown) groups.set(f.workload, [...(groups.get(f.workload) ?? []), f]);
  for (const [workload, list] of groups) {
    body.push(`<text x="${MARGIN}" y="${y + 16}" ${FONT} font-size="15" font-weight="bold" fill="#111">${esc(workload)}</text>`);
    y += 26;
    list.forEach((f, i) => {
      const col = i % PER_ROW;
      if (i > 0 && col === 0) y += PANEL_H + GAP;
      body.push(panel(f, MARGIN + col * (PANEL_W + GAP), y));
    });
    y += PANEL_H + GAP + 6;
  }
  body.push(`<text x="${MARGIN}" y="${y + 16}" ${FONT} font-size="15" font-weight="bold" fill="#111">Targets</text>`);
  y += 26;
  for (const t of targets) {
    const colour = t.status === 'met' ? '#2f9a3a' : t.status === 'missed' ? '#c0392b' : '#888';
    const mark = t.status === 'met' ? '✔ met' : t.status === 'missed' ? '✘ missed' : '– n/a';
    const measured = t.measured === undefined ? '' : `: ${formatValue(t.measured)}${t.unit === '×' ? '×' : ' ' + t.unit}`;
    body.push(`<text x="${MARGIN}" y="${y + 13}" ${FONT} font-size="12" fill="${colour}">${esc(`${mark}  ${t.text}${measured}`)}</text>`);
    y += 18;
  }
  const height = y + MARGIN;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<rect width="100%" height="100%" fill="#ffffff"/>
${body.join('\n')}
</svg>
`;
}
