#!/usr/bin/env python
"""Build and check the docs without Quarto.

The real site is rendered by Quarto on GitHub (`.github/workflows/deploy.yaml`). Quarto cannot be installed on our
machines, so this script runs the same nbdev processing Quarto's build starts from (`nbdev_sidebar`, the module
index, `proc_nbs` with its `show_doc` processors) and renders each processed notebook to HTML with nbconvert, in
`_docs/`, with a sidebar built from the same `sidebar.yml` Quarto reads. It fails when:

- a notebook has an error output (stored, or raised while nbdev executes its `show_doc` cells);
- an exported name of a module has no `show_doc` section on its page;
- a page has no title;
- an output shows a path of the machine that ran it (`/tmp/...`, `/home/...`, ...);
- the notebooks weigh more than a lesson's budget (`tools/outputs.py`: 2.5 MB in all, 400 KB each);
- a page with saved widget state would load the widget manager or require.js from a CDN;
- `README.md` is not what `nbs/index.ipynb` renders to (`--write-readme` regenerates it).

Usage: `python tools/docs.py [--write-readme] [--no-vendor]`.
"""
import argparse, html, importlib, json, re, shutil, subprocess, sys, tarfile, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT/'tools'/'vendor'
NPM = {'@jupyter-widgets/html-manager@1.0.15': ('package/dist/embed-amd.js', 'embed-amd.js'),
       'requirejs@2.3.8': ('package/require.js', 'require.js')}
WIDGET_STATE = 'application/vnd.jupyter.widget-state+json'
MACHINE_PATH = re.compile(r'(?<![\w.~])/(?:tmp|work|root|home|Users|private/var|var/folders)/[^\s\'"<]{0,40}')   # where a build machine keeps files


def vendor_js():
    "Fetch the widget manager and require.js from the npm registry once (`npm pack`), into tools/vendor/."
    VENDOR.mkdir(parents=True, exist_ok=True)
    for spec, (member, name) in NPM.items():
        if (VENDOR/name).exists(): continue
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run(['npm', 'pack', spec, '--silent', '--pack-destination', d], capture_output=True, text=True)
            if out.returncode: sys.exit(f"npm pack {spec} failed (the docs serve it locally instead of from a CDN):\n{out.stderr}")
            with tarfile.open(next(Path(d).glob('*.tgz'))) as t: (VENDOR/name).write_bytes(t.extractfile(member).read())


def import_cells(nbfile):
    "Cells that mix imports with other code: nbdev re-runs every cell with an import while building the docs."
    import ast, nbformat
    bad = []
    for i, c in enumerate(nbformat.read(nbfile, as_version=4).cells):
        if c.cell_type != 'code' or re.search(r'^#\|\s*(export|exports|exporti|exec_doc|eval:\s*false)', c.source, re.M): continue
        src = '\n'.join(l for l in c.source.splitlines() if not l.lstrip().startswith(('%', '!')))
        try: tree = ast.parse(src)
        except SyntaxError: continue
        has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))
        if has_import and any(isinstance(n, (ast.Expr, ast.Assign)) for n in ast.walk(tree)): bad.append(i)
    return bad


def process():
    "nbdev's own processing of every notebook into _proc/ (what Quarto renders on GitHub)."
    from nbdev.config import get_config
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.serve import proc_nbs
    import nbdev.doclinks
    cfg = get_config()
    refresh_quarto_yml(); nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__(path=cfg.nbs_path)
    proc_nbs(cfg.nbs_path, n_workers=0, force=True)
    return cfg, ROOT/'_proc'


def sidebar_pages(cfg):
    "Notebooks in the order of sidebar.yml (the file Quarto's sidebar is made from)."
    import yaml
    items = yaml.safe_load((cfg.nbs_path/'sidebar.yml').read_text())['website']['sidebar']['contents']
    flat = []
    def walk(o):
        if isinstance(o, str): flat.append(o)
        elif isinstance(o, dict): [walk(x) for x in o.get('contents', [])]
        elif isinstance(o, list): [walk(x) for x in o]
    walk(items)
    return [p for p in flat if p.endswith('.ipynb')]


def title_of(nb):
    for c in nb['cells']:
        if c['cell_type'] == 'raw' and (m := re.search(r'^title:\s*(.+)$', ''.join(c['source']), re.M)):
            import yaml   # nbdev quotes a title that holds a colon ('Peers: ...'): read it as the YAML it is
            return str(yaml.safe_load(m.group(1)))
        if c['cell_type'] == 'markdown' and (m := re.match(r'#\s+(.+)', ''.join(c['source']))): return m.group(1).strip()


def check(nb, name):
    "The problems of one processed notebook."
    problems = []
    text = []
    for c in nb['cells']:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'error': problems.append(f"{name}: error output {o.get('ename')}: {o.get('evalue')}")
            if o.get('name') == 'stderr' and 'Traceback' in ''.join(o.get('text', '')): problems.append(f"{name}: a traceback on stderr")
            for v in o.get('data', {}).values(): text.append(''.join(v) if isinstance(v, list) else str(v))
            shown = ''.join(o.get('text', '')) + ''.join(''.join(v) if isinstance(v, list) else str(v)
                                                          for k, v in o.get('data', {}).items() if not k.startswith('image/'))
            if m := MACHINE_PATH.search(shown): problems.append(f"{name}: an output shows a path of the machine that ran it ({m.group(0)}…): print paths relative to a folder, or not at all")
    if not title_of(nb): problems.append(f"{name}: no title (first cell must be '# Title' and '> summary')")
    mod = next((m.group(1) for c in nb['cells'] if c['cell_type'] == 'code'
                for m in [re.search(r'^#\|\s*default_exp\s+(\S+)', ''.join(c['source']), re.M)] if m), None)
    if mod:
        names = getattr(importlib.import_module(f'sundae_vq.{mod}'), '__all__', [])
        shown = set(re.findall(r'^#{2,4}\s+([\w.]+)', '\n'.join(text), re.M))
        if missing := [n for n in names if n not in shown]:
            problems.append(f"{name}: no API (show_doc) section for {', '.join(missing)}")
    return problems


def quarto_like(nb):
    "Apply the cell options Quarto would (`include`, `echo`, `output: false`) and hide the `#|` lines, as the site does."
    import yaml, nbformat
    cells = []
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.startswith('---'):   # the frontmatter: shown as Quarto shows it
            front = yaml.safe_load(c.source.strip().strip('-')) or {}
            c = nbformat.v4.new_markdown_cell(f"# {front.get('title', '')}" + (f"\n\n> {front['description']}" if front.get('description') else ''))
            c.metadata['frontmatter'] = front
        if c.cell_type == 'code':
            lines = c.source.splitlines()
            opts = dict(re.match(r'#\|\s*([\w-]+)\s*:\s*(\S+)', l).groups() for l in lines if re.match(r'#\|\s*[\w-]+\s*:', l))
            if opts.get('include') == 'false': continue
            c.source = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
            if opts.get('echo') == 'false': c.metadata.setdefault('tags', []).append('remove_input')
            if opts.get('output') == 'false': c.outputs = []
            for o in c.get('outputs', []):
                d = o.get('data', {})
                if 'image/png' in d: d.pop('image/jpeg', None)
                if 'text/markdown' in d:   # Quarto's link attributes, which plain markdown would print
                    d['text/markdown'] = re.sub(r'\{target="_blank"[^}]*\}', '', ''.join(d['text/markdown']))
            if not c.get('outputs') and (not c.source or 'remove_input' in c.metadata.get('tags', [])): continue
        cells.append(c)
    nb.cells = cells
    return nb


def exporter(cls, **kw):
    from traitlets.config import Config
    return cls(config=Config({'TagRemovePreprocessor': {'enabled': True, 'remove_input_tags': {'remove_input'}}}), **kw)


def render(nbfile, pages, cfg):
    "One processed notebook as a self-contained HTML page with the sidebar; returns (html, problems)."
    import nbformat
    from nbconvert import HTMLExporter
    nb = quarto_like(nbformat.read(nbfile, as_version=4))
    ex = exporter(HTMLExporter, template_name='lab', embed_images=True, exclude_input_prompt=True, exclude_output_prompt=True)
    ex.widget_renderer_url = 'vendor/embed-amd.js'
    ex.require_js_url = 'vendor/require.js'
    body, _ = ex.from_notebook_node(nb)
    problems = []
    if WIDGET_STATE in nb.metadata.get('widgets', {}):
        for cdn in ('unpkg.com', 'cdn.jsdelivr.net', 'cdnjs.cloudflare.com/ajax/libs/require.js'):
            if cdn in body: problems.append(f"{nbfile.name}: widget page loads from {cdn}")
    here = nbfile.stem
    links = ''.join(f'<li{" class=current" if Path(p).stem == here else ""}><a href="{Path(p).stem}.html">{html.escape(t)}</a></li>'
                    for p, t in pages)
    nav = (f'<nav class="sv-sidebar"><a class="sv-home" href="index.html">{html.escape(cfg.lib_name)}</a><ul>{links}</ul></nav>'
           '<style>.sv-sidebar{position:fixed;top:0;left:0;width:220px;height:100%;overflow:auto;padding:1em;'
           'background:#f7f7f9;border-right:1px solid #ddd;font-family:sans-serif;font-size:14px}'
           '.sv-sidebar ul{list-style:none;padding:0}.sv-sidebar li{margin:.35em 0}.sv-sidebar li.current a{font-weight:bold}'
           '.sv-home{font-size:18px;font-weight:bold}body{margin-left:250px!important}</style>')
    body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + nav, body, count=1)
    return body, problems


def readme(proc):
    "README.md as index.ipynb renders to markdown (frontmatter and hidden cells dropped by nbdev's processing)."
    import nbformat
    from nbconvert import MarkdownExporter
    nb = quarto_like(nbformat.read(proc/'index.ipynb', as_version=4))
    front = next((c.metadata['frontmatter'] for c in nb.cells if 'frontmatter' in c.metadata), {})
    title, desc = front.get('title'), front.get('description')
    nb.cells = [c for c in nb.cells if 'frontmatter' not in c.metadata]
    md, res = exporter(MarkdownExporter).from_notebook_node(nb, resources={'output_files_dir': 'README_files', 'unique_key': 'README'})
    head = (f"# {title}\n\n" if title else '') + (f"> {desc}\n\n" if desc else '')
    md = re.sub(r'\n{3,}', '\n\n', md).strip()
    return head + md + '\n', res.get('outputs', {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--write-readme', action='store_true', help='regenerate README.md from nbs/index.ipynb')
    ap.add_argument('--no-vendor', action='store_true', help='skip fetching the widget JavaScript from npm')
    a = ap.parse_args()
    import nbformat
    from nbdev.config import get_config
    problems = [f"{p.name}: cell {i} mixes imports with other code; put imports in a cell of their own (the docs build re-runs cells that import)"
                for p in sorted(get_config().nbs_path.glob('*.ipynb')) if not p.name.startswith(('.', '_')) for i in import_cells(p)]
    sys.path.insert(0, str(ROOT/'tools'))
    from outputs import budget_problems, notebooks
    problems += budget_problems(notebooks())
    sidebar = get_config().nbs_path/'sidebar.yml'; had_sidebar = sidebar.exists()
    try: cfg, proc = process()
    except Exception as e:
        print('docs check failed:\n- ' + '\n- '.join(problems + [f"nbdev's processing failed: {e}"])); sys.exit(1)
    if not a.no_vendor: vendor_js()
    out = ROOT/cfg.doc_path.name
    shutil.rmtree(out, ignore_errors=True); (out/'vendor').mkdir(parents=True)
    if VENDOR.exists():
        for f in VENDOR.glob('*.js'): shutil.copy(f, out/'vendor')
    order = sidebar_pages(cfg)
    if not had_sidebar: sidebar.unlink()   # generated for this run (Quarto's build on GitHub makes its own)
    nbs = {p: nbformat.read(proc/p, as_version=4) for p in order}
    pages = [(p, title_of(nbs[p]) or Path(p).stem) for p in order]
    on_disk = sorted(p.relative_to(cfg.nbs_path).as_posix() for p in cfg.nbs_path.glob('*.ipynb') if not p.name.startswith(('.', '_')))
    if sorted(order) != on_disk: problems.append(f"sidebar.yml lists {sorted(order)} but nbs/ has {on_disk}")
    for p in order:
        problems += check(nbs[p], p)
        page, probs = render(proc/p, pages, cfg)
        problems += probs
        (out/f'{Path(p).stem}.html').write_text(page)
    md, files = readme(proc)
    if a.write_readme:
        (ROOT/'README.md').write_text(md)
        shutil.rmtree(ROOT/'README_files', ignore_errors=True)
        for name, data in files.items(): (ROOT/name).parent.mkdir(parents=True, exist_ok=True); (ROOT/name).write_bytes(data)
    elif (ROOT/'README.md').read_text() != md:
        problems.append("README.md is stale: it is generated from nbs/index.ipynb; run `python tools/docs.py --write-readme` and commit")
    print(f"rendered {len(order)} pages into {out}/")
    if problems:
        print('docs check failed:\n- ' + '\n- '.join(problems)); sys.exit(1)
    print('docs check passed')


if __name__ == '__main__': main()
