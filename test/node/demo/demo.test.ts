/**
 * The browser demo end to end (Node project only): builds docs/demo with Vite, serves the static files
 * on localhost, and drives Debian's Chromium (Playwright, WebGPU on SwiftShader) through a short
 * experiment: the NE table and every plot must appear. Keeps a screenshot in test-results/demo.png.
 * Also builds the library as one browser module and checks nothing Node-only is imported statically.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Server } from 'node:http';
import type { Browser } from 'playwright';

const CHROMIUM_ARGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('browser demo and bundle', () => {
  let server: Server, url: string, browser: Browser;

  beforeAll(async () => {
    const { build } = await import('vite');
    await build({ configFile: 'docs/demo/vite.config.ts', logLevel: 'warn' });
    const { createServer } = await import('node:http');
    const { readFile } = await import('node:fs/promises');
    const { extname, join, normalize } = await import('node:path');
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
      const file = join('dist/demo', path.endsWith('/') ? `${path}index.html` : path);
      readFile(file).then((body) => { res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }); res.end(body); },
        () => { res.writeHead(404); res.end('not found'); });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    url = `http://localhost:${port}/`;
    const { chromium } = await import('playwright');
    browser = await chromium.launch({ executablePath: process.env.C2AL_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => server?.close(ok));
  });

  test('the built demo runs a short C2AL experiment on WebGPU and draws its table and plots', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    expect(await page.textContent('#adapter')).toMatch(/^Adapter: .*swiftshader/i);
    await page.fill('input[name="epochs"]', '2');
    await page.fill('input[name="rows"]', '3000');
    await page.fill('input[name="lambda"]', '0.5');
    await page.click('#run');
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 180_000 });
    expect(await page.textContent('#error')).toBe('');
    expect(await page.getAttribute('body', 'data-state')).toBe('done');
    // Overall plus 5 age cohorts in the NE table, with numbers.
    const rows = await page.$$eval('#ne-table tr', (trs) => trs.slice(1).map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
    expect(rows.map((r) => r[0])).toEqual(['overall', 'age 25-34', 'age 18-24', 'age 35-44', 'age 45-54', 'age 55+']);
    expect(rows[0]![2]).toMatch(/^\d\.\d{4}$/);
    for (const plot of ['live-loss', 'divergence', 'ne-per-cohort', 'attention-histogram', 'validation-curves']) {
      const box = await page.$eval(`svg[data-plot="${plot}"]`, (svg) => { const b = svg.getBoundingClientRect(); return { w: b.width, h: b.height, marks: svg.querySelectorAll('rect, polyline').length }; });
      expect(box.w, plot).toBeGreaterThan(100);
      expect(box.h, plot).toBeGreaterThan(100);
      expect(box.marks, plot).toBeGreaterThan(1);
    }
    // Live loss: the baseline and the C2AL run, and the two auxiliary heads.
    expect(await page.$$eval('svg[data-plot="live-loss"] polyline', (ls) => ls.length)).toBe(4);
    const { mkdir } = await import('node:fs/promises');
    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/demo.png', fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('without WebGPU the demo says so instead of failing', async () => {
    const page = await browser.newPage();
    await page.addInitScript(() => { Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }); });
    await page.goto(url);
    await page.waitForSelector('body[data-state="no-webgpu"]', { timeout: 30_000 });
    expect(await page.textContent('#error')).toMatch(/This browser has no WebGPU \(navigator\.gpu is missing\)/);
    expect(await page.isDisabled('#run')).toBe(true);
    await page.close();
  });

  test('the library bundles for browsers as one ES module with no static Node imports', async () => {
    const { build } = await import('vite');
    await build({ configFile: 'vite.lib.config.ts', logLevel: 'warn' });
    const { readFile, stat } = await import('node:fs/promises');
    const code = await readFile('dist/browser/c2al.js', 'utf8');
    expect(code).not.toMatch(/(?:^|[;}\s])import\s*[^("']*from\s*["'](node:|webgpu)/m);
    const { gzipSync } = await import('node:zlib');
    const bytes = (await stat('dist/browser/c2al.js')).size, gz = gzipSync(code).length;
    console.log(`[bundle] dist/browser/c2al.js: ${(bytes / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped`);
    expect(bytes).toBeGreaterThan(50_000);
  });
});
