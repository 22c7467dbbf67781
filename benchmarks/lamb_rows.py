"""Why 'layers' mode cuts its buckets at 24 MB: `Lamb(fast=True)` over ResNet-34 in one bucket or in 24 MB buckets, with glibc's malloc as it is or told to keep large blocks.

Usage: python benchmarks/lamb_rows.py [--threads 1] [--rounds 9] [--txt out.txt] [--json out.json]

glibc's `malloc` maps every block over 32 MB from the system afresh and unmaps it when it is freed. A LAMB step over
one flat buffer of ResNet-34's 21.8M weights makes an 87 MB temporary (the update u, read again after the norms), so
it page-faults 87 MB in on every step. Each case runs in a fresh process (the malloc setting is read at start-up),
interleaved with `torch.optim.AdamW(fused=True)` over the same weights; the gradients stay in place
(`zero_grad(set_to_none=False)`), medians.
"""
import argparse, json, os, statistics, subprocess, sys, time

CASES = {'one bucket, malloc defaults': (1 << 40, {}),
         'one bucket, MALLOC_MMAP_THRESHOLD_=4 GB': (1 << 40, {'MALLOC_MMAP_THRESHOLD_': str(1 << 32), 'MALLOC_TRIM_THRESHOLD_': str(1 << 36)}),
         '24 MB buckets (the default), malloc defaults': (None, {})}

def one(max_bytes, rounds, threads):
    "Time `Lamb(fast=True)` and fused AdamW in this process: (ms, ms, buckets)"
    import logging, warnings
    logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)
    import torch, torchvision
    import callbackopt.fast as cf
    from callbackopt.more import Lamb
    torch.set_num_threads(threads)
    if max_bytes: cf._MAX_BYTES = max_bytes
    ps = list(torchvision.models.resnet34().parameters())
    qs = [p.detach().clone().requires_grad_() for p in ps]
    for p in ps + qs: p.grad = torch.full_like(p, 1e-3)
    opt, ref = Lamb(ps, lr=1e-3, wd=0.01, fast=True), torch.optim.AdamW(qs, lr=1e-3, fused=True)
    for _ in range(3): opt.step(); ref.step()
    def ms(o): t = time.perf_counter(); o.step(); return 1e3 * (time.perf_counter() - t)
    a, b = zip(*[(ms(opt), ms(ref)) for _ in range(rounds)])
    return statistics.median(a), statistics.median(b), len(opt._fast.layouts[0][1])

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--rounds', type=int, default=9)
    ap.add_argument('--txt', default=None)
    ap.add_argument('--json', default=None, help='also save the rows here')
    ap.add_argument('--case', default=None, help=argparse.SUPPRESS)   # internal: run one case in this process
    a = ap.parse_args()
    if a.case is not None:
        print(json.dumps(one(CASES[a.case][0], a.rounds, a.threads))); sys.exit()
    head = f"ResNet-34 (21.8M weights, 110 tensors), Lamb(fast=True) against AdamW(fused=True), {a.threads} thread(s), median of {a.rounds} interleaved rounds"
    out, rows = [head, '', f"{'case':46} {'buckets':>7} {'Lamb ms':>8} {'fused ms':>9} {'x fused':>8}"], []
    for name,(mb,env) in CASES.items():
        r = subprocess.run([sys.executable, __file__, '--case', name, '--rounds', str(a.rounds), '--threads', str(a.threads)],
                           capture_output=True, text=True, env={**os.environ, **env}, check=True)
        lamb, fused, nb = json.loads(r.stdout.strip().splitlines()[-1])
        out.append(f"{name:46} {nb:7d} {lamb:8.1f} {fused:9.1f} {lamb/fused:8.2f}")
        rows.append(dict(case=name, buckets=nb, lamb_ms=lamb, fused_ms=fused))
    txt = '\n'.join(out)
    print(txt)
    if a.txt:
        with open(a.txt, 'w') as f: f.write(txt + '\n')
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(head=head, rows=rows), f, indent=1)
