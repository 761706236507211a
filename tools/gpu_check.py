"""Check sundae_vq on a GPU in under 8 minutes and print one table of what ran.

Runs, on `--device` (default cuda): the library calls of the notebooks' `#| cuda` cells, 50 training steps of the
demo prior with AMP and a checkpoint + exact resume, the sampler and inpainting with the shipped demo model, the
bench's network and sampler benchmarks, and the megapixel timing. `--quick` runs it all on the CPU at tiny sizes
(well under a minute), so the script is tested where no GPU is. `--out FILE` writes the table as JSON lines.

    python tools/gpu_check.py --out nbs/results/gpu_check.jsonl
"""

from __future__ import annotations

import argparse, contextlib, io, json, sys, tempfile, time, traceback
from pathlib import Path

import torch

from sundae_vq.core import load_model, save_model, seeded
from sundae_vq.hourglass import Hourglass, hourglass_preset
from sundae_vq.latents import LatentDataset
from sundae_vq.train import Trainer, TrainConfig
from sundae_vq.sampler import sample, decode_codes
from sundae_vq.models import DEMO_DIR, load_models, latent_shape
from sundae_vq.inpaint import inpaint, rect_mask
from sundae_vq.bench import run_bench, network_bench
from sundae_vq.timing import table, device_name

COLS = dict(check='s', device='s', s='.1f', result='s', figures='s')


def settings(quick: bool) -> dict:
    "What each check runs: the real sizes, or tiny CPU stand-ins for `quick`."
    if quick:
        return dict(
            prior=hourglass_preset('tiny', num_tokens=256),
            steps=4,
            batch=8,
            samples=2,
            sample_steps=4,
            hg_grids=(8,),
            hg_batches=(2,),
        )
    return dict(
        prior=hourglass_preset('demo'),
        steps=50,
        batch=32,
        samples=16,
        sample_steps=None,
        hg_grids=(16, 32, 64),
        hg_batches=(1, 8),
    )


def check_cuda_cells(dev, s) -> str:
    "The `#| cuda` cells of 00_core and 06_hourglass: load_model onto the device; the hourglass bench there."
    with seeded(0):
        m = Hourglass(hourglass_preset('tiny'))
    codes = torch.randint(0, 16, (2, 8, 8))
    with tempfile.TemporaryDirectory() as d:
        save_model(m, Path(d) / 'ckpt')
        m2 = load_model(Path(d) / 'ckpt', map_location=dev)
    assert {p.device.type for p in m2.parameters()} == {dev.type}, 'load_model left weights off the device'
    with torch.no_grad():
        diff = (m2.eval()(codes.to(dev)).float().cpu() - m.eval()(codes)).abs().max().item()
    assert diff < 1e-3, f'the loaded model differs on {dev.type} by {diff}'
    cfg = hourglass_preset('tiny', num_tokens=1024, dim=128, heads=2, dim_head=64, depths=(2, 8, 2))
    rows = [r for b in s['hg_batches'] for r in network_bench(cfg, s['hg_grids'], batch=b, reps=1, device=dev)]
    big = rows[-1]
    return f"load_model max diff {diff:.1e}; hourglass {big['grid']}² b{big['batch']} {big['mode']}: " + (
        f"{big['speedup']:.2f}× vanilla"
    )


def _states(t: Trainer) -> list:
    "Every tensor of the weights and the EMA."
    return [*t.model.state_dict().values(), *t.ema.state_dict().values()]


def check_train(dev, s) -> str:
    "Train the prior on the demo store with AMP; a run stopped half-way and resumed must equal the whole run."
    ds = LatentDataset(DEMO_DIR / 'latents')
    n = s['steps']
    cfg = TrainConfig(steps=n, batch_size=s['batch'], lr=1e-3, warmup=n // 5, log_every=max(n // 5, 1), ckpt_every=0)

    def trainer(out, resume=False):
        with seeded(0):
            m = Hourglass(s['prior'])
        return Trainer(m, ds, config=cfg, out=out, resume=resume, device=dev, progress=False)

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        whole = trainer(Path(d) / 'whole').fit()
        dt = time.perf_counter() - t0
        trainer(Path(d) / 'half').fit(n // 2)
        half = trainer(Path(d) / 'half', resume=True)
        assert half.step == n // 2, f'resumed at step {half.step}, not {n // 2}'
        half.fit()
        recs = [json.loads(line) for line in (Path(d) / 'whole' / 'metrics.jsonl').read_text().splitlines()]
    diff = max((p.float() - q.float()).abs().max().item() for p, q in zip(_states(whole), _states(half), strict=True))
    losses = [r['loss'] for r in recs if 'loss' in r]
    assert all(map(torch.isfinite, torch.tensor(losses))), f'non-finite loss: {losses}'
    assert diff == 0, f'the resumed run differs from the whole run by {diff:.2e}'
    amp = 'bf16' if whole.config.amp == 'bf16' or (whole.config.amp == 'auto' and dev.type == 'cuda') else 'fp32'
    return (
        f"{n} steps b{s['batch']} {amp}: {n / dt:.1f} steps/s, loss {losses[0]:.2f}→{losses[-1]:.2f}; "
        f"resume from step {n // 2} exact"
    )


def check_sampler(dev, s) -> str:
    "The demo model samples and inpaints on the device: deterministic, codes in range, known codes kept."
    prior, vq = load_models(device=dev)
    shape, v = latent_shape(prior), vq.config.n_embed
    kw = dict(steps=s['sample_steps']) if s['sample_steps'] else {}
    a = sample(prior, s['samples'], shape, seed=0, **kw)
    b = sample(prior, s['samples'], shape, seed=0, **kw)
    assert torch.equal(a.codes, b.codes), 'the sampler is not deterministic under a seed'
    assert a.codes.device.type == dev.type, f'the codes came back on {a.codes.device}'
    assert 0 <= a.codes.min() and a.codes.max() < v, f'codes outside [0, {v})'
    imgs = decode_codes(vq, a.codes)
    assert imgs.isfinite().all() and imgs.shape[0] == s['samples'], f'bad decoded images {tuple(imgs.shape)}'
    H, W = imgs.shape[-2:]
    mask = rect_mask((H, W), (H // 2, 0, H - H // 2, W))  # fill the bottom half
    r = inpaint(prior, vq, imgs[0], mask, n=2, seed=0, **kw)
    keep = ~r.fill[0]
    known = vq.encode(imgs[:1]).to(dev)[0]
    assert torch.equal(r.codes[0, :, keep], known[keep].expand(2, -1)), 'inpainting changed a known code'
    assert r.images.isfinite().all(), 'non-finite inpainted pixels'
    return (
        f"{s['samples']} samples {shape[0]}×{shape[1]}: {a.seconds / s['samples']:.3f} s/sample, "
        f"{a.calls.float().mean():.1f} calls; inpaint keeps {int(keep.sum())} known codes"
    )


def check_bench(dev, quick, only) -> tuple:
    "The bench's benches `only` on the device (`run_bench`, compiled for the megapixel prior on CUDA)."
    res = run_bench(quick=quick, device=dev, only=only, compile=dev.type == 'cuda' and 'megapixel' in only)
    res.pop('figure', None)
    return res


def bench_figures(res) -> str:
    "The figures of a `run_bench` result worth a row."
    if 'megapixel' in res:
        return '; '.join(f"b{r['batch']}: {r['total_s']:.3f} s/image" for r in res['megapixel'])
    net = res['network'][-1]  # the largest grid, forward+backward
    sam = [r for r in res['samplers'] if r['sampler'] == 'SUNDAE']
    return (
        f"hourglass {net['grid']}² {net['mode']}: {net['speedup']:.2f}×; "
        f"SUNDAE {sam[-1]['setting']}: {sam[-1]['s']:.3f} s/image"
    )


def run(quick: bool, device: str) -> list:
    "Every check, a row each: what ran, where, its seconds, pass/fail and its figures."
    dev = torch.device(device)
    s, rows = settings(quick), []
    checks = [
        ('cuda cells', lambda: check_cuda_cells(dev, s)),
        ('train+resume', lambda: check_train(dev, s)),
        ('sample+inpaint', lambda: check_sampler(dev, s)),
        ('bench net+samplers', lambda: bench_figures(check_bench(dev, quick, ('network', 'samplers')))),
        ('megapixel', lambda: bench_figures(check_bench(dev, quick, ('megapixel',)))),
    ]
    for name, fn in checks:
        log, t0 = io.StringIO(), time.perf_counter()
        try:
            with contextlib.redirect_stdout(log):
                figures, result = fn(), 'pass'
        except Exception as e:
            figures, result = f'{type(e).__name__}: {e}'.splitlines()[0][:200], 'fail'
            print(log.getvalue(), traceback.format_exc(), sep='\n', file=sys.stderr)
        rows.append(
            dict(check=name, device=device_name(dev), s=time.perf_counter() - t0, result=result, figures=figures)
        )
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='tiny sizes on the CPU, well under a minute')
    p.add_argument('--device', default=None, help="where to run (default 'cuda'; 'cpu' with --quick)")
    p.add_argument('--out', default=None, help='also write the table to this file as JSON lines')
    a = p.parse_args(argv)
    device = a.device or ('cpu' if a.quick else 'cuda')
    if torch.device(device).type == 'cuda' and not torch.cuda.is_available():
        print('gpu_check: CUDA is not available here: run it on a GPU machine, or pass --quick', file=sys.stderr)
        return 2
    if torch.device(device).type == 'cpu':
        torch.set_num_threads(1)  # the shared CPU: times on one thread, as the bench does
    rows = run(a.quick, device)
    mode = 'quick, tiny sizes' if a.quick else 'full sizes'
    table(rows, COLS, f'gpu_check ({mode}; torch {torch.__version__})')
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(''.join(json.dumps(r | dict(quick=a.quick)) + '\n' for r in rows))
    return 0 if all(r['result'] == 'pass' for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
