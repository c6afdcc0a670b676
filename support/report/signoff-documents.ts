/**
 * The sign-off as documents a risk officer can file: `signoff.md` and `signoff.json`
 * (support/report/signoff.ts), a self-contained `signoff.html` (styles and charts inline, no other
 * file needed) and `signoff.pdf` printed from it by Chromium. Without Chromium the PDF is left out
 * and the reason says how to install it; the other documents are written all the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import { marked } from 'marked';
import { launchChromium } from '../browser/chromium.ts';
import { signoffCharts } from '../charts/chart-options.ts';
import { renderSvg } from '../charts/render-charts.ts';
import { renderMarkdown, writeSignOff, type SignOff } from './signoff.ts';

const STYLE = `
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 11pt; color: #111827; margin: 2em auto; max-width: 1100px; padding: 0 1em; }
h1 { font-size: 20pt; } h2 { font-size: 14pt; margin-top: 1.6em; border-bottom: 1px solid #d1d5db; }
table { border-collapse: collapse; margin: 0.6em 0; width: 100%; font-size: 9pt; }
th, td { border: 1px solid #d1d5db; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
code { font-size: 9pt; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts figure { margin: 0; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } tr { break-inside: avoid; } .charts figure { break-inside: avoid; } }
`;

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The sign-off as one HTML file: the Markdown's content, with the charts before the environment. */
export function renderSignoffHtml(signoff: SignOff): string {
  const bc = 'problem' in signoff.businessCase ? null : signoff.businessCase;
  const charts = signoffCharts(
    signoff.categories,
    bc && {
      revenueIncrease: bc.result.revenueIncrease,
      cost: bc.result.cost,
      currency: bc.assumptions.currency,
      periodDays: bc.assumptions.period_days,
      sources: { measured: `${bc.inputs.challengerAccuracy.source}, ${bc.inputs.answeredShare.source}`, assumptions: bc.assumptionsFile },
    },
  );
  const figures = Object.entries(charts).map(([name, option]) => `<figure id="chart-${name}">${renderSvg(option, 520, 340)}</figure>`);
  const markdown = renderMarkdown(signoff);
  const at = markdown.indexOf('\n## Environment');
  const [before, after] = at < 0 ? [markdown, ''] : [markdown.slice(0, at), markdown.slice(at)];
  const body = `${marked.parse(before, { async: false })}<h2>Charts</h2><div class="charts">${figures.join('')}</div>${marked.parse(after, { async: false })}`;
  const title = `Release sign-off ${signoff.run?.release ?? ''}: ${signoff.verdict}`.trim();
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>\n`;
}

export interface SignOffDocuments {
  signoff: SignOff;
  markdown: string;
  json: string;
  html: string;
  pdf?: string;
  /** Why there is no PDF. */
  pdfProblem?: string;
}

/** Write every sign-off document of a run folder; the PDF when a Chromium is there. */
export async function writeSignOffDocuments(reportsDir: string, waiverFile?: string, chromiumPath?: string): Promise<SignOffDocuments> {
  const { signoff, markdown, json } = writeSignOff(reportsDir, waiverFile);
  const dir = path.dirname(markdown);
  const html = path.join(dir, 'signoff.html');
  const page = renderSignoffHtml(signoff);
  fs.writeFileSync(html, page);
  const pdf = path.join(dir, 'signoff.pdf');
  try {
    const browser = await launchChromium(chromiumPath);
    try {
      const tab = await browser.newPage();
      await tab.setContent(page, { waitUntil: 'load' });
      await tab.pdf({ path: pdf, format: 'A4', landscape: true, printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
    } finally {
      await browser.close();
    }
    return { signoff, markdown, json, html, pdf };
  } catch (error) {
    fs.rmSync(pdf, { force: true });
    return { signoff, markdown, json, html, pdfProblem: `no PDF: ${(error as Error).message.split('\n')[0]}` };
  }
}
