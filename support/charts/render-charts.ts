/**
 * Publication charts: the dashboard's A/B and business-impact charts rendered server-side by
 * ECharts to SVG, and from SVG to PNG by resvg, with a white background, a title, axis units and a
 * caption naming the sources. Writes `<name>.svg`, `<name>.png` and an index `charts.json`.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as echarts from 'echarts';
import { Resvg } from '@resvg/resvg-js';
import type { DashboardData } from '../views/dashboard-views.ts';
import type { ChartOption } from './chart-options.ts';

const WIDTH = 960;
const HEIGHT = 540;
const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/truetype/liberation'];

export interface RenderedChart {
  name: string;
  title: string;
  caption: string;
  svg: string;
  png: string;
}

export function renderSvg(option: ChartOption, width = WIDTH, height = HEIGHT): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, backgroundColor: '#ffffff' });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function svgToPng(svg: string): Buffer {
  const fontDirs = FONT_DIRS.filter((dir) => fs.existsSync(dir));
  const resvg = new Resvg(svg, {
    background: '#ffffff',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, fontDirs, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** Render one chart to `<outDir>/<name>.svg` and `.png` (folders created); returns the SVG's path. */
export function writeChart(option: ChartOption, outDir: string, name: string): string {
  fs.mkdirSync(outDir, { recursive: true });
  const svg = renderSvg(option);
  const file = path.join(outDir, `${name}.svg`);
  fs.writeFileSync(file, svg);
  fs.writeFileSync(path.join(outDir, `${name}.png`), svgToPng(svg));
  return file;
}

/** Render every chart of the A/B and business views into `outDir`. */
export function renderCharts(data: DashboardData, outDir: string): RenderedChart[] {
  fs.mkdirSync(outDir, { recursive: true });
  const charts = { ...data.ab.charts, ...data.business.charts };
  const rendered: RenderedChart[] = [];
  for (const [name, option] of Object.entries(charts)) {
    const title = option.title as { text: string; subtext: string };
    const svg = renderSvg(option);
    const svgFile = path.join(outDir, `${name}.svg`);
    const pngFile = path.join(outDir, `${name}.png`);
    fs.writeFileSync(svgFile, svg);
    fs.writeFileSync(pngFile, svgToPng(svg));
    rendered.push({ name, title: title.text, caption: title.subtext, svg: svgFile, png: pngFile });
  }
  fs.writeFileSync(
    path.join(outDir, 'charts.json'),
    JSON.stringify({ generatedAt: data.generatedAt, window: data.window, models: data.selected, charts: rendered, sources: data.sources }, null, 2),
  );
  return rendered;
}
