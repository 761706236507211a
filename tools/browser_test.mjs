// Driven by tools/browser_test.py: node browser_test.mjs OUTDIR CHROMIUM TIMEOUT_MS [static=URL] [live=URL]
// static: the light chain player (chain_html's stored output, as a page of its own): slider, Play, Pause, no fetches.
// live: the Voila page of the widgets notebook: both widgets, driven as a user would.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [out, exe, budget, ...rest] = process.argv.slice(2);
const urls = Object.fromEntries(rest.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
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
const shot = (name) => page.screenshot({ path: path.join(out, name), fullPage: true });
const newPage = async () => {
  const p = await ctx.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  p.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  return p;
};
const stepOf = (text) => Number((/step (\d+) of/.exec(text) || [])[1]);

// The light player: a page with no kernel and nothing to fetch, its frames swapped by its own script.
async function staticPlayer(url) {
  const requests = [];
  page = await newPage();
  page.on('request', (r) => { if (!r.url().startsWith('data:')) requests.push(r.url()); });
  log(`opening the light player at ${url}`);
  await page.goto(url, { timeout: left(60000), waitUntil: 'load' });
  const lp = page.locator('.sv-light-player').first(), frame = lp.locator('.sv-lp-frame');
  const slider = lp.locator('.sv-lp-slider'), play = lp.locator('.sv-lp-play'), caption = lp.locator('.sv-lp-caption');
  await page.waitForFunction((s) => !document.querySelector(s).disabled, '.sv-light-player .sv-lp-slider', { timeout: left(10000) });
  check(true, 'the player\'s script enabled its slider');
  const top = Number(await slider.getAttribute('max')), last = await frame.screenshot();
  const lastStep = stepOf(await caption.innerText()), lastSrc = await frame.getAttribute('src');
  check(lastStep > 0 && Number(await slider.inputValue()) === top, `it starts at the last step (${lastStep}, frame ${top})`);
  const box = await slider.boundingBox();
  await page.mouse.move(box.x + box.width - 6, box.y + box.height / 2); await page.mouse.down();   // the thumb, at the right end
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2, { steps: 8 }); await page.mouse.up();
  await page.waitForTimeout(300);
  const early = Number(await slider.inputValue()), earlyStep = stepOf(await caption.innerText());
  check(early < top && earlyStep < lastStep, `dragging the slider moves it back (frame ${top} -> ${early}, step ${lastStep} -> ${earlyStep})`);
  check((await frame.getAttribute('src')) !== lastSrc && !(await frame.screenshot()).equals(last),
        'the picture at the earlier step differs from the last step');
  check(/per sample:/.test(await lp.locator('.sv-lp-detail').innerText()), 'the per-sample line follows the slider');
  await shot('6_static_scrubbed.png');
  check((await play.innerText()).includes('Play'), `the button reads "${(await play.innerText()).trim()}"`);
  await play.click();
  await page.waitForTimeout(250);
  const playing = Number(await slider.inputValue());
  check(playing > early && (await play.innerText()).includes('Pause'), `Play advances the slider (frame ${early} -> ${playing}) and offers Pause`);
  await page.waitForFunction((s) => document.querySelector(s).textContent.includes('Play'), '.sv-light-player .sv-lp-play',
                             { timeout: left(20000) });
  const end = Number(await slider.inputValue());
  check(end === top && stepOf(await caption.innerText()) === lastStep, `Play stops at the last step (frame ${end})`);
  check((await frame.screenshot()).equals(last), 'the picture is the last step again');
  await play.click(); await page.waitForTimeout(200); await play.click();                  // Play from the start, then Pause
  const paused = Number(await slider.inputValue()); await page.waitForTimeout(600);
  check(paused < top && Number(await slider.inputValue()) === paused, `Pause holds the step (frame ${paused})`);
  // the button's glyphs exist in the page's fonts: drawn unlike a code point no font has (an empty box)
  const drawn = await page.evaluate((font) => {
    const pix = (ch) => { const c = document.createElement('canvas'); c.width = c.height = 40; const g = c.getContext('2d');
                          g.font = font; g.fillText(ch, 4, 30); return c.toDataURL(); };
    const box = pix('\u{10FFFD}');
    return ['\u25b6', '\u2016'].map((ch) => pix(ch) !== box && pix(ch) !== pix(' '));
  }, await play.evaluate((e) => { const s = getComputedStyle(e); return `${s.fontSize} ${s.fontFamily}`; }));
  check(drawn.every(Boolean), `the Play and Pause glyphs are drawn, not empty boxes (${drawn})`);
  const fonts = await page.evaluate(() => document.fonts.size);
  check(fonts === 0, `the page loads no web font (${fonts})`);
  const others = requests.filter((u) => u !== url);
  check(others.length === 0, `the page fetches nothing but itself (${others.slice(0, 3).join(', ')})`);
  await shot('7_static_paused.png');
}

// The live widgets under Voila: a kernel runs the notebook, and each click goes to Python.
async function livePage(url) {
  page = await newPage();
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

  // -- the inpainting widget: toggle a cell, run; the sheet (original, masked input, candidates) at the chosen scale
  await inp.scrollIntoViewIfNeeded();
  const cell = inp.locator('.sv-cell').first(), sheet = inp.locator('img.sv-inpaint-sheet');
  const natural = () => sheet.evaluate((e) => [e.naturalWidth, e.naturalHeight]);
  const before = await sheet.screenshot(), wasOn = await cell.evaluate((e) => e.classList.contains('sv-on'));
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
  check(!(await sheet.screenshot()).equals(before), 'the result sheet changed');
  // one row of 64-px tiles, 2 px apart (6 before the candidates), 2 px border: the original, the masked input, n candidates
  const n = Number((/run 2: (\d+) candidates/.exec(await istatus.innerText()) || [])[1]), row = 2 + (n + 2) * 66 + 4;
  const zoom = inp.locator('.sv-inpaint-zoom select'), s0 = Number(await zoom.inputValue()), [w0, h0] = await natural();
  check(n > 0 && w0 === s0 * row && h0 === s0 * 68, `the sheet shows the original, the masked input and ${n} candidates at ×${s0} (${w0}×${h0})`);
  await inp.screenshot({ path: path.join(out, '4_inpainted.png') });
  await zoom.selectOption('1');
  await page.waitForFunction(([e, w]) => e.naturalWidth !== w, [await sheet.elementHandle(), w0], { timeout: left(30000) });
  const [w1, h1] = await natural();
  check(w1 === row && h1 === 68, `the sheet scale redraws it at ×1 (${w1}×${h1})`);
  check(/run 2:/.test(await istatus.innerText()), 'without running again');
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
  // Voila's page template links Font Awesome from a CDN (its bundle carries the font too): refused, not a failure
}

try {
  // only the local server: anything else is refused and reported
  await ctx.route('**/*', (r) => {
    const u = new URL(r.request().url());
    if (['127.0.0.1', 'localhost'].includes(u.hostname)) return r.continue();
    blocked.push(u.href); return r.abort();
  });
  if (urls.static) await staticPlayer(urls.static);
  if (urls.live) await livePage(urls.live);
  check(pageErrors.length === 0, `no JavaScript errors (${pageErrors.join(' | ').slice(0, 300)})`);
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
