"""Time one optimizer `step()` over ResNet-34's parameters: callbackopt (eager and fast) against torch.optim and fastai.

Usage: python benchmarks/optimizer_step.py [--quick] [--device cpu|cuda] [--rounds N] [--json out.json]

Every optimizer steps the same parameters (torchvision `resnet34()`, 21.8M floats) with fixed random gradients.
All optimizers live in one process and are timed in interleaved rounds (round r times every optimizer once, in a
shuffled order), so slow drifts of the machine hit them all alike; we report the median over rounds and the ratio
to `torch.optim.AdamW(fused=True)`. The gradients are set once, so after its first step the fast mode finds them
already in its flat buffer (as with `zero_grad(set_to_none=False)`); 'fresh grads' sets new gradient tensors before
every step (as `zero_grad()` + `backward` do), so that step includes copying them into the flat buffer. Also: time to first step of the fast mode (compilation included), and a scaling
series (1M to 100M parameters in one group of 1M-element tensors) with the time per parameter.
"""
import argparse, gc, json, os, platform, random, statistics, sys, time, warnings
from functools import partial
import torch, torchvision
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import fastai.optimizer as fo
from callbackopt.optimizer import Optimizer, sgd_step
from callbackopt.basics import weight_decay
from callbackopt.momentum import average_grad, momentum_step
from callbackopt.rmsprop import average_sqr_grad, rms_prop_step
from callbackopt.adam import step_stat, adam_step

LR, MOM, SQR, EPS, WD = 1e-3, 0.9, 0.99, 1e-5, 1e-2

def ours(chain, fast):
    "callbackopt `Optimizer` factory for one of the four chains"
    cbs = {'sgd':       [weight_decay, sgd_step],
           'momentum':  [weight_decay, average_grad, momentum_step],
           'rmsprop':   [weight_decay, average_sqr_grad, rms_prop_step],
           'adam':      [weight_decay, partial(average_grad, dampening=True), average_sqr_grad, step_stat, adam_step]}[chain]
    return lambda ps: Optimizer(ps, cbs, lr=LR, mom=MOM, sqr_mom=SQR, eps=EPS, wd=WD, fast=fast)

def fastai_opt(chain):
    return {'sgd':      lambda ps: fo.SGD(ps, LR, wd=WD),
            'momentum': lambda ps: fo.SGD(ps, LR, mom=MOM, wd=WD),
            'rmsprop':  lambda ps: fo.RMSProp(ps, LR, sqr_mom=SQR, eps=EPS, wd=WD),
            'adam':     lambda ps: fo.Adam(ps, LR, mom=MOM, sqr_mom=SQR, eps=EPS, wd=WD)}[chain]

def torch_opts(chain, device):
    "torch.optim equivalents (for-loop, foreach, fused where torch has it on `device`)"
    O, impls = torch.optim, {}
    for impl in ('forloop', 'foreach', 'fused'):
        kw = {'forloop': dict(foreach=False), 'foreach': dict(foreach=True), 'fused': dict(fused=True)}[impl]
        mk = {'sgd': lambda ps, kw=kw: O.SGD(ps, lr=LR, weight_decay=WD, **kw),
              'momentum': lambda ps, kw=kw: O.SGD(ps, lr=LR, momentum=MOM, weight_decay=WD, **kw),
              'rmsprop': lambda ps, kw=kw: O.RMSprop(ps, lr=LR, alpha=SQR, eps=EPS, weight_decay=WD, **kw),
              'adam': lambda ps, kw=kw: O.AdamW(ps, lr=LR, betas=(MOM, SQR), eps=EPS, weight_decay=WD, **kw)}[chain]
        try:
            ps = [torch.zeros(2, device=device, requires_grad=True)]; ps[0].grad = torch.zeros(2, device=device)
            mk(ps).step(); impls[impl] = mk
        except Exception: pass      # e.g. no fused RMSprop
    return impls

def sync(device):
    if device == 'cuda': torch.cuda.synchronize()

class Case:
    "One optimizer on its own copy of the parameters and gradients"
    def __init__(self, name, make, shapes, grads, device, fresh_grads=False):
        self.name, self.times, self.grads, self.fresh = name, [], grads, fresh_grads
        self.ps = [torch.randn(s, device=device).mul_(0.01).requires_grad_() for s in shapes]
        for p,g in zip(self.ps, grads): p.grad = g     # shared: no optimizer here changes the gradients in place
        t0 = time.perf_counter()
        self.opt = make(self.ps)
        self.opt.step(); sync(device)
        self.first = time.perf_counter() - t0
        self.opt.step(); sync(device)         # the fast mode compiles on its second step (the first creates the state)
        self.second = time.perf_counter() - t0 - self.first
    def time(self, device):
        if self.fresh:      # new gradient tensors before each step, as after `zero_grad()` (set_to_none) and `backward`
            for p,g in zip(self.ps, self.grads): p.grad = g
        sync(device); t0 = time.perf_counter(); self.opt.step(); sync(device)
        self.times.append(time.perf_counter() - t0)
    @property
    def median(self): return statistics.median(self.times)

def compare(device, rounds, chains, quick):
    shapes = [p.shape for p in torchvision.models.resnet34().parameters()]
    n = sum(s.numel() for s in shapes)
    torch.manual_seed(0)
    grads = [torch.randn(s, device=device) for s in shapes]
    makers = {}
    for ch in chains:
        for impl,mk in torch_opts(ch, device).items(): makers[f'{ch}/torch {impl}'] = mk
        makers[f'{ch}/fastai'] = fastai_opt(ch)
        makers[f'{ch}/ours eager'] = ours(ch, False)
        makers[f'{ch}/ours fast'] = ours(ch, True)
        if ch == 'adam': makers[f'{ch}/ours fast, fresh grads'] = ours(ch, True)
        if not quick: makers[f'{ch}/ours fast, no compile'] = ours(ch, 'eager')
    if 'adam/torch fused' not in makers: makers['adam/torch fused'] = torch_opts('adam', device)['fused']
    cases = []
    for name,mk in makers.items():
        fresh = name.endswith('fresh grads')
        cases.append(Case(name, mk, shapes, grads, device, fresh)); print(f'  built {name}: first step {cases[-1].first:.2f} s, second {cases[-1].second:.2f} s', flush=True)
    for r in range(rounds):
        random.Random(r).shuffle(cases)
        for c in cases: c.time(device)
    ref = next(c for c in cases if c.name == 'adam/torch fused').median
    rows = []
    for c in sorted(cases, key=lambda c: list(makers).index(c.name)):
        fast = getattr(c.opt, '_fast', None)
        rows.append(dict(name=c.name, median_ms=1e3*c.median, ratio=c.median/ref, first_s=c.first, second_s=c.second,
                         compiles=getattr(fast, 'n_compiles', None), compile_s=getattr(fast, 'compile_s', None)))
    return dict(n_params=n, n_tensors=len(shapes), rounds=rounds, ref_ms=1e3*ref, rows=rows)

def scaling(device, sizes, rounds):
    "Step time of Adam (ours fast, ours eager, torch fused) for one group of `m` 1M-element tensors"
    res = []
    for m in sizes:
        shapes, row = [(1_000_000,)]*m, dict(n_params=m*1_000_000)
        grads = [torch.randn(s, device=device) for s in shapes]
        for name,mk in [('torch fused', torch_opts('adam', device)['fused']), ('ours fast', ours('adam', True)), ('ours eager', ours('adam', False))]:
            c = Case(name, mk, shapes, grads, device)
            for _ in range(rounds): c.time(device)
            row[name] = 1e3*c.median
            del c; gc.collect()
        del grads; gc.collect()
        res.append(row); print('  ', row, flush=True)
    return res

def machine(device):
    if device == 'cuda': return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    return f"{os.cpu_count()}-core {platform.machine()} CPU, {'no GPU' if not torch.cuda.is_available() else 'GPU present'}, torch {torch.__version__.split('+')[0]}, {torch.get_num_threads()} threads"

def report(res):
    c = res['compare']
    print(f"\nMachine: {res['machine']}")
    print(f"ResNet-34: {c['n_params']/1e6:.1f}M parameters in {c['n_tensors']} tensors; median of {c['rounds']} interleaved rounds; "
          f"reference torch AdamW(fused=True) = {c['ref_ms']:.1f} ms\n")
    print(f"{'optimizer':34} {'step ms':>9} {'x fused AdamW':>14} {'1st+2nd step s':>15}")
    for r in c['rows']:
        print(f"{r['name']:34} {r['median_ms']:9.1f} {r['ratio']:14.2f} {r['first_s']+r['second_s']:15.2f}" +
              (f"   ({r['compiles']} compile(s), {r['compile_s']:.1f} s)" if r['compiles'] else ''))
    if res.get('scaling'):
        print('\nScaling, Adam, one group of 1M-element tensors: ms per step (ns per parameter)')
        for row in res['scaling']:
            print(f"{row['n_params']/1e6:6.0f}M  " + '  '.join(f"{k}: {row[k]:8.1f} ({1e6*row[k]/row['n_params']:.2f})" for k in row if k != 'n_params'))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='Adam and SGD only, 5 rounds, small scaling series')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--rounds', type=int, default=None)
    ap.add_argument('--no-scaling', action='store_true')
    ap.add_argument('--json', default=None, help='also save the results here')
    a = ap.parse_args()
    warnings.simplefilter('ignore')
    rounds = a.rounds or (5 if a.quick else 15)
    chains = ['sgd', 'adam'] if a.quick else ['sgd', 'momentum', 'rmsprop', 'adam']
    res = dict(machine=machine(a.device), device=a.device)
    res['compare'] = compare(a.device, rounds, chains, a.quick)
    if not a.no_scaling: res['scaling'] = scaling(a.device, [1, 4] if a.quick else [1, 3, 10, 30, 100], 3 if a.quick else 5)
    report(res)
    if a.json:
        with open(a.json, 'w') as f: json.dump(res, f, indent=1)
