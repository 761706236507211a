// Driven by tools/browser_test.py: node browser_test.mjs URL OUTDIR CHROMIUM TIMEOUT_MS
// Opens the Voila page of the widgets notebook in headless Chromium and exercises both widgets.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, out, exe, budget] = process.argv.slice(2);
const t0 = Date.now(), deadline = t0 + Number(budget || 600000);
const left = (cap) => Math.max(1000, Math.min(cap, deadline - Date.now()));
const log = (m) => console.log(`[browser ${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}`);
const failures = [], pageErrors = [], consoleErrors = [], blocked = [];
const check = (ok, what) => { log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sundae-vq-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: exe, headless: true, viewport: { width: 1600, height: 1000 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-default-apps', '--no-default-browser-check'],
});
let page;
try {
  // only the local server: anything else is refused and reported
  await ctx.route('**/*', (r) => {
    const u = new URL(r.request().url());
    if (['127.0.0.1', 'localhost'].includes(u.hostname)) return r.continue();
    blocked.push(u.href); return r.abort();
  });
  page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  const shot = (name) => page.screenshot({ path: path.join(out, name), fullPage: true });

  log(`opening ${url} (Voila runs the notebook first)`);
  await page.goto(url, { timeout: left(300000), waitUntil: 'domcontentloaded' });
  const player = page.locator('.sv-chain-player').first(), inp = page.locator('.sv-inpainter').first();
  const status = player.locator('.sv-chain-status'), istatus = inp.locator('.sv-inpaint-status');
  await status.filter({ hasText: 'run 1:' }).waitFor({ timeout: left(400000) });
  await istatus.filter({ hasText: 'run 1:' }).waitFor({ timeout: left(60000) });
  log(`widgets rendered: "${(await status.innerText()).trim()}" / "${(await istatus.innerText()).trim()}"`);
  await player.scrollIntoViewIfNeeded(); await shot('1_loaded.png');

  // -- the chain player: the slider, Play, Run
  const frame = player.locator('.sv-chain-stack img:visible').first();
  const readout = player.locator('.sv-chain-slider .widget-readout');
  const last = await frame.screenshot(), lastStep = Number((await readout.innerText()).trim());
  check(lastStep > 0, `the slider starts at the last step (${lastStep})`);
  const track = await player.locator('.sv-chain-slider .noUi-target').boundingBox();
  const handle = await player.locator('.sv-chain-slider .noUi-handle').boundingBox();
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2); await page.mouse.down();
  await page.mouse.move(track.x + track.width * 0.1, track.y + track.height / 2, { steps: 8 }); await page.mouse.up();
  await page.waitForTimeout(500);
  const early = await frame.screenshot(), earlyStep = Number((await readout.innerText()).trim());
  check(earlyStep < lastStep, `dragging the slider moves it back (step ${lastStep} -> ${earlyStep})`);
  check(!early.equals(last), 'the picture at the earlier step differs from the last step');
  await player.locator('.sv-chain-play button').first().click();                  // Play
  await page.waitForTimeout(1200);
  const played = Number((await readout.innerText()).trim());
  check(played > earlyStep, `Play advances the slider (step ${earlyStep} -> ${played})`);
  await shot('2_scrubbed.png');

  const seed = player.locator('.widget-text input').first();                     // the seed box
  await seed.fill('11'); await seed.press('Enter');
  await player.locator('.sv-chain-run').click();
  await status.filter({ hasText: 'run 2:' }).filter({ hasNotText: 'sampling' }).waitFor({ timeout: left(180000) });
  log(`after Run: "${(await status.innerText()).trim()}"`);
  await page.waitForTimeout(500);
  const rerun = await player.locator('.sv-chain-stack img:visible').first().screenshot();
  check(!rerun.equals(last), 'Run with a new seed shows new final samples');
  check(/codes changed/.test(await player.innerText()), 'the step caption reports the codes changed');
  await shot('3_rerun.png');

  // -- the inpainting widget: toggle a cell, run
  await inp.scrollIntoViewIfNeeded();
  const cell = inp.locator('.sv-cell').first(), cands = inp.locator('.sv-inpaint-candidates');
  const before = await cands.screenshot(), wasOn = await cell.evaluate((e) => e.classList.contains('sv-on'));
  await cell.click();
  await page.waitForFunction(([e, was]) => e.classList.contains('sv-on') !== was, [await cell.elementHandle(), wasOn], { timeout: left(30000) });
  check(true, `clicking a cell toggles it (${wasOn ? 'on -> off' : 'off -> on'})`);
  const color = await cell.evaluate((e) => getComputedStyle(e).backgroundColor);
  check(wasOn ? !color.startsWith('rgba(220') : color.startsWith('rgba(220'), `the cell is drawn ${wasOn ? 'clear' : 'red'} (${color})`);
  await inp.locator('.sv-inpaint-run').click();
  await istatus.filter({ hasText: 'run 2:' }).filter({ hasNotText: 'inpainting' }).waitFor({ timeout: left(180000) });
  log(`after Run: "${(await istatus.innerText()).trim()}"`);
  await page.waitForTimeout(500);
  check(/candidates in/.test(await istatus.innerText()), 'inpainting ran');
  check(!(await cands.screenshot()).equals(before), 'the candidates changed');
  await inp.screenshot({ path: path.join(out, '4_inpainted.png') });
  const pic = inp.locator('.sv-inpaint-board img').first(), picBefore = await pic.screenshot();
  const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: left(30000) }),
                                       inp.locator('.widget-upload').first().click()]);      // upload a picture
  await chooser.setFiles(path.join(out, '1_loaded.png'));
  await istatus.filter({ hasText: 'uploaded 1_loaded.png' }).waitFor({ timeout: left(60000) });
  await page.waitForTimeout(500);
  check(!(await pic.screenshot()).equals(picBefore), 'an uploaded image replaces the one to inpaint');
  await shot('5_page.png');

  // -- no error anywhere
  const broken = await page.locator('.jupyter-widgets-error-widget').count();
  check(broken === 0, `no widget failed to render (${broken})`);
  const errOut = await page.locator('[data-mime-type="application/vnd.jupyter.error"], '
    + '[data-mime-type="application/vnd.jupyter.stderr"]:has-text("Error"), .jp-OutputArea-output:has-text("Traceback")').count();
  check(errOut === 0, `no error output on the page (${errOut})`);
  check(pageErrors.length === 0, `no JavaScript errors (${pageErrors.join(' | ').slice(0, 300)})`);
  // Voila's page template links Font Awesome from a CDN (its bundle carries the font too): refused above, not a failure
  if (blocked.length) log(`refused ${blocked.length} request(s) off 127.0.0.1: ${blocked.slice(0, 3).join(', ')}`);
  if (consoleErrors.length) log(`console errors (not failures): ${consoleErrors.slice(0, 5).join(' | ').slice(0, 500)}`);
} catch (e) {
  failures.push(String(e).split('\n')[0]);
  log(`FAIL ${e}`);
  if (consoleErrors.length) log(`console errors: ${consoleErrors.slice(0, 5).join(' | ').slice(0, 1500)}`);
  if (page) for (const w of await page.locator('.jupyter-widgets-error-widget').all()) {
    await w.click().catch(() => {}); log(`widget error: ${(await w.innerText().catch(() => '')).slice(0, 1500)}`);
  }
  if (pageErrors.length) log(`page errors: ${pageErrors.slice(0, 5).join(' | ').slice(0, 1500)}`);
  if (page) await page.screenshot({ path: path.join(out, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
log(failures.length ? `${failures.length} failure(s): ${failures.join('; ')}` : 'all checks passed');
process.exit(failures.length ? 1 : 0);
