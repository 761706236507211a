#!/usr/bin/env python
"""The widgets in a real browser: Voila serves `nbs/11_widgets.ipynb` on 127.0.0.1, and headless Chromium (Debian's
`/usr/bin/chromium`, driven by `playwright-core` from npm through `tools/browser_test.mjs`) presses Run in the chain
player, moves its step slider and presses Play, toggles a cell of the inpainting widget and runs it; it checks that
the pictures change and that no error shows, and saves screenshots. Exits non-zero on any failure.

It installs what it lacks: `voila` with pip into the running Python, `playwright-core` with npm into
`tools/node_modules/` (gitignored). Nothing leaves the machine once those are in place: Voila listens on 127.0.0.1
only, Chromium runs with its background networking off, and the page may fetch only from 127.0.0.1.

Usage: `python tools/browser_test.py [--out DIR] [--timeout SECONDS] [--notebook PATH] [--chromium PATH]`.
"""
import argparse, os, shutil, signal, socket, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT/'tools'
PLAYWRIGHT = 'playwright-core@1.65.1'


def log(msg): print(f'[browser_test {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def ensure_tools(timeout):
    "voila (pip) and playwright-core (npm, into tools/node_modules), installed only when missing."
    try: import voila  # noqa: F401
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', help='folder for the screenshots and the Voila log (default: a new temporary folder)')
    ap.add_argument('--timeout', type=int, default=900, help='seconds for the whole test (installs included)')
    ap.add_argument('--notebook', default='nbs/11_widgets.ipynb')
    ap.add_argument('--chromium', default=os.environ.get('CHROMIUM', '/usr/bin/chromium'))
    a = ap.parse_args()
    t0 = time.time(); deadline = t0 + a.timeout
    if not Path(a.chromium).exists(): sys.exit(f'browser_test: no Chromium at {a.chromium} (apt-get install chromium, or pass --chromium PATH)')
    if not shutil.which('node'): sys.exit('browser_test: node is needed (apt-get install nodejs)')
    nb = (ROOT/a.notebook).resolve()
    if not nb.exists(): sys.exit(f'browser_test: {nb} not found')
    out = Path(a.out or tempfile.mkdtemp(prefix='sundae_vq_browser_')); out.mkdir(parents=True, exist_ok=True)
    ensure_tools(max(60, deadline - time.time()))
    port = free_port(); url = f'http://127.0.0.1:{port}/'
    env = dict(os.environ, MPLBACKEND='module://matplotlib_inline.backend_inline', PYTHONUNBUFFERED='1')
    cmd = [sys.executable, '-m', 'voila', str(nb), '--no-browser', f'--port={port}', '--Voila.ip=127.0.0.1', '--port_retries=0',
           '--show_tracebacks=True']
    log(f'serving {nb.relative_to(ROOT)} with Voila at {url} (log: {out}/voila.log)')
    vlog = open(out/'voila.log', 'w')
    voila = subprocess.Popen(cmd, cwd=nb.parent, stdout=vlog, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    rc = 1
    try:
        if not wait_port(port, voila, min(deadline, time.time() + 120)):
            log('Voila did not start:'); print((out/'voila.log').read_text()[-3000:]); return 1
        left = int(deadline - time.time())
        log(f'driving Chromium ({left} s left)')
        rc = subprocess.run(['node', str(TOOLS/'browser_test.mjs'), url, str(out), a.chromium, str(left * 1000)],
                            cwd=TOOLS, timeout=left + 30).returncode
    except subprocess.TimeoutExpired: log(f'timed out after {a.timeout} s'); rc = 1
    finally:
        os.killpg(voila.pid, signal.SIGTERM)
        try: voila.wait(20)
        except subprocess.TimeoutExpired: os.killpg(voila.pid, signal.SIGKILL)
        vlog.close()
    errs = [l for l in (out/'voila.log').read_text().splitlines() if 'Traceback' in l or 'Exception in' in l]
    if errs: log('Voila log shows errors:\n  ' + '\n  '.join(errs[:10])); rc = rc or 1
    log(f'{"passed" if rc == 0 else "FAILED"} in {time.time() - t0:.0f} s; screenshots in {out}')
    return rc


if __name__ == '__main__': sys.exit(main())
