#!/usr/bin/env python
"""Keep the notebooks' stored outputs as light as a lesson's.

A notebook stores the pictures its cells drew, and a matplotlib figure of faces or of antialiased curves comes out as
a full-colour PNG several times heavier than what it shows needs. This script

- `--compact`: stores a picture drawn at twice its size for high-density screens (matplotlib's "retina" format, which
  nbdev's test shell uses: the output says the size it is shown at) at the size it is shown at, and re-encodes every
  stored `image/png` output as a palette PNG when that is smaller: exactly the same pixels when the picture has at
  most `COLOURS` colours (most plots), else its `COLOURS` most representative ones (median cut, no dithering: faces
  and samples read the same at their native size); a second pass changes nothing;
- checks the budget (always; `tools/docs.py` runs the check in CI): the stored outputs of all notebooks together at
  most `TOTAL_MB`, none over `EACH_KB`; and the files themselves at most `FILES_MB` in all, so that the source stays
  a lesson too. The outputs are what a reader downloads for nothing; the code, prose and tests are the lesson, and the
  work on documented parameters and user-mistake tests made them grow.

Run `python tools/outputs.py --compact` after re-executing a notebook, before `nbdev_clean` and the commit.
Usage: `python tools/outputs.py [--compact] [NOTEBOOK ...]`.
"""
import argparse, base64, io, json, sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
TOTAL_MB, EACH_KB = 1.5, 300  # the stored outputs' budget: MB in all (10^6 bytes), KB a notebook (10^3 bytes)
FILES_MB = 3.2  # the notebook files' budget, source and outputs, MB in all
COLOURS = 128  # a stored picture's palette


def palette_png(png: bytes, width: int | None = None) -> bytes:  # width: the size it is shown at, if smaller
    "The same picture as an 8-bit palette PNG (at `width` pixels wide), or `png` itself when that is not smaller."
    im = Image.open(io.BytesIO(png))
    if width and im.width > width:
        im = im.convert('RGBA').resize((width, max(1, round(im.height * width / im.width))), Image.Resampling.LANCZOS)
    elif im.mode == 'P' and len(im.getcolors(256) or range(257)) <= COLOURS:
        return png
    rgba = im.convert('RGBA')
    opaque = rgba.getextrema()[3][0] == 255
    # median cut for opaque pictures (exact when they have at most COLOURS colours); Pillow quantizes RGBA by octree
    method = Image.Quantize.MEDIANCUT if opaque else Image.Quantize.FASTOCTREE
    q = (rgba.convert('RGB') if opaque else rgba).quantize(COLOURS, method=method, dither=Image.Dither.NONE)
    out = io.BytesIO()
    q.save(out, 'PNG', optimize=True)
    return out.getvalue() if len(out.getvalue()) < len(png) else png


def compact(path: Path) -> tuple:
    "Re-encode `path`'s stored PNG outputs in place; return its (bytes before, bytes after)."
    before = path.stat().st_size
    nb = json.loads(path.read_text())
    changed = False
    for c in nb['cells']:
        for o in c.get('outputs', []):
            data = o.get('data', {})
            if 'image/png' not in data:
                continue
            b64 = data['image/png']
            b64 = ''.join(b64) if isinstance(b64, list) else b64
            png = base64.b64decode(b64)
            shown = o.get('metadata', {}).get('image/png', {})  # a retina picture's size on the page
            small = palette_png(png, shown.get('width'))
            if small is not png:
                data['image/png'] = base64.b64encode(small).decode()  # as nbdev_clean stores it
                o.get('metadata', {}).pop('image/png', None)  # now drawn at the size it is shown at
                changed = True
    if changed:
        tmp = path.with_name(path.name + '.tmp')
        tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
        tmp.replace(path)
    return before, path.stat().st_size


def _outputs_size(path: Path) -> int:
    "The bytes of a notebook's stored outputs, as JSON."
    cells = json.loads(path.read_text())['cells']
    return sum(len(json.dumps(c.get('outputs', []), ensure_ascii=False)) for c in cells)


def budget_problems(paths: list) -> list:
    "What breaks the budget: a notebook's outputs over `EACH_KB`, all outputs over `TOTAL_MB`, all files over `FILES_MB`."
    sizes = {p.name: _outputs_size(p) for p in paths}
    problems = [f"{n} stores {s / 1e3:.0f} KB of outputs, over the {EACH_KB} KB a notebook may: show pictures at "
                f"native size, fewer frames, then `python tools/outputs.py --compact`" for n, s in sizes.items()
                if s > EACH_KB * 1e3]
    heaviest = lambda d: ', '.join(n for n, _ in sorted(d.items(), key=lambda o: -o[1])[:3])
    if (total := sum(sizes.values())) > TOTAL_MB * 1e6:
        problems.append(f"the notebooks' outputs weigh {total / 1e6:.2f} MB in all, over {TOTAL_MB} MB: "
                        f"lighten the heaviest ({heaviest(sizes)})")
    files = {p.name: p.stat().st_size for p in paths}
    if (total := sum(files.values())) > FILES_MB * 1e6:
        problems.append(f"the notebooks weigh {total / 1e6:.2f} MB in all, over {FILES_MB} MB: "
                        f"lighten the heaviest ({heaviest(files)})")
    return problems


def notebooks() -> list:
    return sorted(p for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith(('.', '_')))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--compact', action='store_true', help='re-encode stored PNG outputs as palette PNGs')
    ap.add_argument('paths', nargs='*', type=Path, help='notebooks (default: all of nbs/)')
    a = ap.parse_args()
    paths = [p.resolve() for p in a.paths] or notebooks()
    if a.compact:
        for p in paths:
            before, after = compact(p)
            if after < before:
                print(f"{p.name}: {before / 1e3:.0f} KB -> {after / 1e3:.0f} KB")
    all_nbs = notebooks()
    outs = [_outputs_size(p) for p in all_nbs]
    print(f"{len(all_nbs)} notebooks: outputs {sum(outs) / 1e6:.2f} MB in all, the heaviest {max(outs) / 1e3:.0f} KB "
          f"(budget {TOTAL_MB} MB, {EACH_KB} KB each); files {sum(p.stat().st_size for p in all_nbs) / 1e6:.2f} MB "
          f"(budget {FILES_MB} MB)")
    if problems := budget_problems(all_nbs):
        print('over budget:\n- ' + '\n- '.join(problems))
        sys.exit(1)


if __name__ == '__main__':
    main()
