#!/usr/bin/env python
"""The widgets in a real browser: the light chain player the docs page stores, and the live widgets under Voila.

Headless Chromium (Debian's `/usr/bin/chromium`, driven by `playwright-core` from npm through `tools/browser_test.mjs`)
runs two parts, each checking that the pictures change and that no error shows, and saving screenshots; it exits
non-zero on any failure:

- static: the light player the notebook stores (`chain_html`'s output, what the docs page shows without a kernel) is
  written as a page of its own with `save_html` and served on 127.0.0.1; Chromium drags its slider, presses Play and
  Pause, and checks that the page fetches nothing and that the button's glyphs are drawn (no empty boxes);
- live: Voila serves `nbs/11_widgets.ipynb` on 127.0.0.1; Chromium presses Run in the chain player, moves its step
  slider and presses Play, toggles a cell of the inpainting widget, runs it and checks the sheet it shows (the
  original, the masked input and the candidates) and its sheet-scale control, and uploads a picture.

It installs what it lacks: `voila` with pip into the running Python, `playwright-core` with npm into
`tools/node_modules/` (gitignored). Nothing leaves the machine once those are in place: Voila listens on 127.0.0.1
only, Chromium runs with its background networking off, and the page may fetch only from 127.0.0.1.

Usage: `python tools/browser_test.py [--out DIR] [--timeout SECONDS] [--notebook PATH] [--chromium PATH]
[--only static|live]`.
"""
import argparse, functools, http.server, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT/'tools'
PLAYWRIGHT = 'playwright-core@1.65.1'


def log(msg): print(f'[browser_test {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def ensure_tools(timeout, live=True):
    "voila (pip, for the live part) and playwright-core (npm, into tools/node_modules), installed only when missing."
    try:
        if live: import voila  # noqa: F401
    except ImportError:
        log('installing voila with pip'); subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', 'voila'], check=True, timeout=timeout)
    if not (TOOLS/'node_modules'/'playwright-core'/'package.json').exists():
        if not shutil.which('npm'): sys.exit('browser_test: npm is needed to install playwright-core (apt-get install npm)')
        log(f'installing {PLAYWRIGHT} with npm into tools/node_modules')
        subprocess.run(['npm', 'install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', str(TOOLS), PLAYWRIGHT],
                       check=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def wait_port(port, proc, deadline):
    "Wait until the Voila server accepts connections (running the notebook is the browser's wait)."
    while time.time() < deadline:
        if proc.poll() is not None: return False
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=2): return True
        except OSError: time.sleep(0.5)
    return False


def drive(parts:list, out:Path, chromium:str, deadline:float) -> int:
    "Run browser_test.mjs on the parts ('static=URL', 'live=URL'); its exit status."
    left = int(deadline - time.time())
    log(f'driving Chromium ({left} s left)')
    try: return subprocess.run(['node', str(TOOLS/'browser_test.mjs'), str(out), chromium, str(left * 1000), *parts],
                               cwd=TOOLS, timeout=left + 30).returncode
    except subprocess.TimeoutExpired: log('Chromium timed out'); return 1


def stored_player(nb:Path) -> str:
    "The light player (`chain_html`'s HTML) stored among the notebook's outputs."
    for c in json.loads(nb.read_text(encoding='utf-8'))['cells']:
        for o in c.get('outputs', []):
            h = o.get('data', {}).get('text/html')
            if h and 'sv-light-player' in (h := ''.join(h) if isinstance(h, list) else h): return h
    sys.exit(f'browser_test: {nb.name} stores no light player (the output of chain_html): run the notebook and save it')


def serve_folder(folder:Path):
    "A quiet HTTP server of one folder on 127.0.0.1 (a thread); returns it (`.shutdown()` stops it)."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def static_page(nb:Path, out:Path) -> Path:
    "The stored light player as a standalone page (written by the library's `save_html`)."
    from sundae_vq.widgets import save_html
    return save_html(stored_player(nb), out/'static'/'player.html', title='sundae_vq: the light chain player')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', help='folder for the screenshots and the Voila log (default: a new temporary folder)')
    ap.add_argument('--timeout', type=int, default=900, help='seconds for the whole test (installs included)')
    ap.add_argument('--notebook', default='nbs/11_widgets.ipynb')
    ap.add_argument('--chromium', default=os.environ.get('CHROMIUM', '/usr/bin/chromium'))
    ap.add_argument('--only', choices=('static', 'live'), help='run one part (default: both)')
    a = ap.parse_args()
    t0 = time.time(); deadline = t0 + a.timeout
    if not Path(a.chromium).exists(): sys.exit(f'browser_test: no Chromium at {a.chromium} (apt-get install chromium, or pass --chromium PATH)')
    if not shutil.which('node'): sys.exit('browser_test: node is needed (apt-get install nodejs)')
    nb = (ROOT/a.notebook).resolve()
    if not nb.exists(): sys.exit(f'browser_test: {nb} not found')
    out = Path(a.out or tempfile.mkdtemp(prefix='sundae_vq_browser_')); out.mkdir(parents=True, exist_ok=True)
    ensure_tools(max(60, deadline - time.time()), live=a.only != 'static')
    parts, srv, voila, vlog, rc = [], None, None, None, 1
    try:
        if a.only != 'live':
            page = static_page(nb, out); srv = serve_folder(page.parent)
            parts.append(f'static=http://127.0.0.1:{srv.server_address[1]}/{page.name}')
            log(f'serving the light player stored in {nb.name} at {parts[-1][7:]}')
        if a.only != 'static':
            port = free_port(); url = f'http://127.0.0.1:{port}/'
            env = dict(os.environ, MPLBACKEND='module://matplotlib_inline.backend_inline', PYTHONUNBUFFERED='1')
            cmd = [sys.executable, '-m', 'voila', str(nb), '--no-browser', f'--port={port}', '--Voila.ip=127.0.0.1',
                   '--port_retries=0', '--show_tracebacks=True']
            log(f'serving {nb.relative_to(ROOT)} with Voila at {url} (log: {out}/voila.log)')
            vlog = open(out/'voila.log', 'w')
            voila = subprocess.Popen(cmd, cwd=nb.parent, stdout=vlog, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            if not wait_port(port, voila, min(deadline, time.time() + 120)):
                log('Voila did not start:'); print((out/'voila.log').read_text()[-3000:]); return 1
            parts.append(f'live={url}')
        rc = drive(parts, out, a.chromium, deadline)
    finally:
        if srv: srv.shutdown()
        if voila:
            os.killpg(voila.pid, signal.SIGTERM)
            try: voila.wait(20)
            except subprocess.TimeoutExpired: os.killpg(voila.pid, signal.SIGKILL)
        if vlog: vlog.close()
    if voila:
        errs = [l for l in (out/'voila.log').read_text().splitlines() if 'Traceback' in l or 'Exception in' in l]
        if errs: log('Voila log shows errors:\n  ' + '\n  '.join(errs[:10])); rc = rc or 1
    log(f'{"passed" if rc == 0 else "FAILED"} in {time.time() - t0:.0f} s; screenshots in {out}')
    return rc


if __name__ == '__main__': sys.exit(main())
