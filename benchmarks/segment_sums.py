"""Per-parameter reductions over a flat buffer (segment sums) for LAMB: ways to make a LAMB step one compiled computation.

Usage: python benchmarks/segment_sums.py [--threads 1] [--rounds 9] [--txt out.txt]

The fast path steps a bucket of parameters laid end to end in flat buffers (each piece starting at a multiple of 16
elements). LAMB needs two norms per parameter (of the weights and of the Adam update), so a compiled step over the
whole buffer needs sums per segment. This script writes a LAMB step over ResNet-34's flat buffer (21.8M floats in 110
tensors) by hand, with the per-parameter sums done in four ways, compiles each with `torch.compile`, and times it
against `torch.optim.AdamW(fused=True)` over the same parameters in interleaved rounds (medians):

- `index_add`: one segment id per element, `index_add_` into one slot per parameter (Inductor: an atomic add per element);
- `rows16+segment_reduce`: sums of rows of 16 elements (a row never straddles two parameters), then `torch.segment_reduce`;
- `slices`: one `sum()` per parameter's slice, 110 reductions in the graph;
- `rows256+edges`: sums of rows of 256 elements for the rows inside one parameter, plus the elements of the rows that
  straddle two (gathered and `index_add_`ed).
"""
import argparse, statistics, time, warnings, logging
logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)
import torch, torchvision

def layout(A=16):
    "ResNet-34's parameter sizes and their offsets in a buffer where each starts at a multiple of `A` elements"
    sizes = [p.numel() for p in torchvision.models.resnet34().parameters()]
    offs, n = [], 0
    for s in sizes: offs.append(n); n += -(-s//A)*A
    return sizes, offs, n

def make_segsum(how, sizes, offs, n, W=256):
    "A function `x -> [sum of x over each parameter]` (float64) for a flat `x` of `n` elements (padded to a multiple of `W`)"
    S, n_pad = len(sizes), -(-n//W)*W
    seg_of = torch.full((n_pad,), S, dtype=torch.int64)
    for i,(o,s) in enumerate(zip(offs, sizes)): seg_of[o:o+s] = i
    if how == 'index_add':
        return lambda x: torch.zeros(S+1, dtype=torch.float64).index_add_(0, seg_of, x.double())[:S]
    if how == 'rows16+segment_reduce':
        rows = torch.tensor([-(-s//16) for s in sizes]); R = n_pad//16
        keep = (seg_of < S).view(R, 16)
        def f(x):
            rs = torch.where(keep, x.view(R, 16), 0).sum(1).double()[:int(rows.sum())]
            return torch.segment_reduce(rs, 'sum', lengths=rows)
        return f
    if how == 'slices': return lambda x: torch.stack([x[o:o+s].sum() for o,s in zip(offs, sizes)]).double()
    if how == 'rows256+edges':
        rows = seg_of.view(-1, W)
        inside = (rows == rows[:, :1]).all(1) & (rows[:, 0] < S)
        row_seg = torch.where(inside, rows[:, 0], S)
        edge = ((~inside).nonzero().flatten()[:, None]*W + torch.arange(W)).flatten()
        edge = edge[seg_of[edge] < S]; edge_seg = seg_of[edge]
        def f(x):
            out = torch.zeros(S+1, dtype=torch.float64).index_add_(0, row_seg, x.view(-1, W).sum(1).double())
            return out.index_add_(0, edge_seg, x[edge].double())[:S]
        return f
    raise ValueError(how)

def lamb_step(segsum, sizes, offs, n_pad):
    "A decoupled-wd LAMB step over flat `p, g, m, v`, with per-parameter norms from `segsum`, broadcast back per 16 elements"
    S, cnt = len(sizes), torch.tensor(sizes, dtype=torch.float64)
    seg16 = torch.full((n_pad//16,), S, dtype=torch.int64)
    for i,(o,s) in enumerate(zip(offs, sizes)): seg16[o//16:(o+s+15)//16] = i
    expand = lambda a: torch.cat([a, a.new_zeros(1)])[seg16][:, None].expand(-1, 16).reshape(-1)
    def step(p, g, m, v, lr, mom, sqr_mom, eps, wd, d1, d2):
        p.mul_(1 - lr*wd)
        m.mul_(mom).add_(g, alpha=1-mom)
        v.mul_(sqr_mom).addcmul_(g, g, value=1-sqr_mom)
        r1 = (segsum(p*p)/cnt).sqrt()
        u = (m/d1) / ((v/d2).sqrt() + eps)
        r2 = (segsum(u*u)/cnt).sqrt()
        alpha = torch.where((r1 == 0) | (r2 == 0), -lr, torch.where(10 < r1/r2, -lr*10, -lr*(r1/r2)))
        p.add_(u*expand(alpha).to(p.dtype))
    return step

def main(rounds, hows):
    sizes, offs, n = layout()
    n_pad = -(-n//256)*256
    torch.manual_seed(0)
    ps = [torch.randn(s)*0.01 for s in sizes]
    for q in ps: q.grad = torch.randn_like(q)
    ref = torch.optim.AdamW(ps, lr=1e-3, fused=True); ref.step()
    sc = [torch.tensor(x, dtype=torch.float64) for x in (1e-3, 0.9, 0.99, 1e-5, 1e-2, 0.1, 0.01)]
    fns, rows = {}, []
    for how in hows:
        bufs = [torch.zeros(n_pad) for _ in range(4)]
        for (o,s),q in zip(zip(offs, sizes), ps): bufs[0][o:o+s] = q.flatten(); bufs[1][o:o+s] = q.grad.flatten()
        f = torch.compile(lamb_step(make_segsum(how, sizes, offs, n), sizes, offs, n_pad), fullgraph=True)
        t0 = time.perf_counter(); f(*bufs, *sc); fns[how] = (f, bufs, time.perf_counter() - t0)
    ts = {k: [] for k in [*fns, 'AdamW fused']}
    for _ in range(rounds):
        for how,(f,bufs,_) in fns.items():
            t0 = time.perf_counter(); f(*bufs, *sc); ts[how].append(time.perf_counter() - t0)
        t0 = time.perf_counter(); ref.step(); ts['AdamW fused'].append(time.perf_counter() - t0)
    ref_ms = 1e3*statistics.median(ts['AdamW fused'])
    out = [f"ResNet-34: {n/1e6:.1f}M floats in {len(sizes)} tensors, {torch.get_num_threads()} thread(s), median of {rounds} interleaved rounds",
           f"torch AdamW(fused=True): {ref_ms:.1f} ms", '', f"{'LAMB, segment sums by':24} {'step ms':>8} {'x fused':>8} {'compile s':>10}"]
    for how,(f,bufs,cs) in fns.items():
        ms = 1e3*statistics.median(ts[how]); out.append(f"{how:24} {ms:8.1f} {ms/ref_ms:8.2f} {cs:10.1f}")
    return '\n'.join(out)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--rounds', type=int, default=9)
    ap.add_argument('--how', default='index_add,rows16+segment_reduce,slices,rows256+edges')
    ap.add_argument('--txt', default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    txt = main(a.rounds, a.how.split(','))
    print(txt)
    if a.txt:
        with open(a.txt, 'w') as f: f.write(txt + '\n')
