"""Time one optimizer `step()` over ResNet-34's parameters: callbackopt (eager and fast) against torch.optim and fastai.

Usage: python benchmarks/optimizer_step.py [--quick] [--more [--only NAMES]] [--device cpu|cuda] [--rounds N] [--threads N] [--json out.json] [--txt out.txt]

Every optimizer steps its own copy of the same parameters (torchvision `resnet34()`, 21.8M floats in 110 tensors). Before
each step a real `backward` writes the gradients (of `sum((p * c).sum())` with fixed random `c`): after torch's default
`zero_grad()` (set_to_none) each step gets new gradient tensors, which the fast mode copies into its flat buffer; the
row 'zero_grad(set_to_none=False)' lets `backward` accumulate into that buffer instead. Only `step()` is timed. All
optimizers live in one process and are timed in interleaved rounds (round r times each once, in a shuffled order); we
report medians and the ratio to `torch.optim.AdamW(fused=True)`, and the memory-bandwidth floor of each update measured
on the spot. Also: the time of the first two steps (compilation included), the memory each optimizer adds, and a
scaling series (1M to 100M parameters in 1M-element tensors).

With `--more`: the optimizers of `callbackopt.more` (fastai's RAdam, QHAdam, Larc, Lamb, ranger, against fastai's own
classes) and `callbackopt.more_torch` (NAdam, Adamax, Adagrad, Adadelta, RAdamTorch against torch.optim in each
implementation torch has on the device; Lion and Adan, ours only) in place of the four chains, each pair with the same
hyper-parameters (torch's L2 weight decay against ours with `decouple_wd=False`). Each algorithm's cases and a
`torch.optim.AdamW(fused=True)` reference are timed in interleaved rounds of their own; the ratios use the reference's
times from the same rounds.
"""
import argparse, gc, json, logging, os, platform, random, statistics, subprocess, sys, time, warnings
from functools import partial
logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)   # its CUDA_HOME notice on machines without CUDA
import torch, torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
with warnings.catch_warnings():
    warnings.simplefilter('ignore', FutureWarning)   # fastai's import calls torch.jit.script
    import fastai.optimizer as fo
from callbackopt.optimizer import Optimizer, sgd_step
from callbackopt.basics import weight_decay
from callbackopt.momentum import average_grad, momentum_step
from callbackopt.rmsprop import average_sqr_grad, rms_prop_step
from callbackopt.adam import step_stat, adam_step

LR, MOM, SQR, EPS, WD = 1e-3, 0.9, 0.99, 1e-5, 1e-2
BYTES = {'sgd': 12, 'momentum': 20, 'rmsprop': 20, 'adam': 28}   # per float32 parameter: read p, g (and state), write p (and state)

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

def added_bytes(opt):
    "Bytes the optimizer holds besides the parameters and autograd's gradients: its state, and the fast mode's gradient buffers"
    ts = {t.data_ptr(): t for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor)}
    fast = getattr(opt, '_fast', None)
    grads = [b.grad.t for lay in (getattr(fast, 'layouts', None) or {}).values() for b in lay[1]]
    return sum(t.numel() * t.element_size() for t in [*ts.values(), *grads])

class Case:
    "One optimizer on its own copy of the parameters; gradients from a real backward before each step"
    def __init__(self, name, make, shapes, cs, device, set_to_none=True):
        self.name, self.times, self.set_to_none, self.cs = name, [], set_to_none, cs
        torch.manual_seed(0)
        self.ps = [torch.randn(s, device=device).mul_(0.01).requires_grad_() for s in shapes]
        self.opt = make(self.ps)
        self.backward(); t0 = time.perf_counter(); self.opt.step(); sync(device)
        self.first = time.perf_counter() - t0
        self.backward(); t0 = time.perf_counter(); self.opt.step(); sync(device)   # the fast mode compiles on its second step
        self.second = time.perf_counter() - t0
        self.mem = added_bytes(self.opt)
    def backward(self):
        if isinstance(self.opt, fo.Optimizer): self.opt.zero_grad()    # fastai zeroes in place
        else: self.opt.zero_grad(set_to_none=self.set_to_none)
        sum((p * c).sum() for p,c in zip(self.ps, self.cs)).backward()
    def time(self, device):
        self.backward(); sync(device)
        t0 = time.perf_counter(); self.opt.step(); sync(device)
        self.times.append(time.perf_counter() - t0)
    @property
    def median(self): return statistics.median(self.times)

def build(specs, shapes, cs, device):
    "A `Case` for each (name, maker, set_to_none) in `specs`, built in order (each takes its first two steps)"
    cases = []
    for name,mk,stn in specs:
        cases.append(Case(name, mk, shapes, cs, device, stn))
        print(f'  built {name}: first step {cases[-1].first:.2f} s, second {cases[-1].second:.2f} s', flush=True)
    return cases

def interleave(cases, rounds, device):
    "Time one step of every case per round, in an order shuffled afresh each round (so a burst of load hits them all alike)"
    for r in range(rounds):
        order = list(cases); random.Random(r).shuffle(order)
        for c in order: c.time(device)

def bandwidth(device, n=50_000_000, reps=7):
    "Streaming bandwidth in bytes/s: `a.add_(b, alpha=0.1)` over `n` floats moves 12 bytes per element"
    a, b = torch.zeros(n, device=device), torch.ones(n, device=device)
    ts = []
    for _ in range(reps):
        sync(device); t0 = time.perf_counter(); a.add_(b, alpha=0.1); sync(device); ts.append(time.perf_counter() - t0)
    return 12 * n / statistics.median(ts)

def compare(device, rounds, chains, quick):
    shapes = [p.shape for p in torchvision.models.resnet34().parameters()]
    n = sum(s.numel() for s in shapes)
    torch.manual_seed(1)
    cs = [torch.randn(s, device=device) for s in shapes]     # d loss / d p: the same for every optimizer, never written
    makers = {}
    for ch in chains:
        for impl,mk in torch_opts(ch, device).items(): makers[f'{ch}/torch {impl}'] = (mk, True)
        makers[f'{ch}/fastai'] = (fastai_opt(ch), True)
        makers[f'{ch}/ours eager'] = (ours(ch, False), True)
        makers[f'{ch}/ours fast'] = (ours(ch, True), True)
        makers[f'{ch}/ours fast, zero_grad(set_to_none=False)'] = (ours(ch, True), False)
    if 'adam/torch fused' not in makers: makers['adam/torch fused'] = (torch_opts('adam', device)['fused'], True)
    cases = build([(name, mk, stn) for name,(mk,stn) in makers.items()], shapes, cs, device)
    interleave(cases, rounds, device)
    ref = next(c for c in cases if c.name == 'adam/torch fused').median
    rows = []
    for c in sorted(cases, key=lambda c: list(makers).index(c.name)):
        fast = getattr(c.opt, '_fast', None)
        rows.append(dict(name=c.name, median_ms=1e3*c.median, ratio=c.median/ref, first_s=c.first, second_s=c.second,
                         added_mb=c.mem/2**20, compiles=getattr(fast, 'n_compiles', None), mode=getattr(fast, 'mode', None)))
    return dict(n_params=n, n_tensors=len(shapes), rounds=rounds, ref_ms=1e3*ref, rows=rows)

def scaling(device, sizes, rounds):
    "Step time of Adam (ours fast, torch fused) for one group of `m` 1M-element tensors"
    res = []
    for m in sizes:
        shapes, row = [(1_000_000,)]*m, dict(n_params=m*1_000_000)
        cs = [torch.randn(s, device=device) for s in shapes]
        for name,mk in [('torch fused', torch_opts('adam', device)['fused']), ('ours fast', ours('adam', True))]:
            c = Case(name, mk, shapes, cs, device)
            for _ in range(rounds): c.time(device)
            row[name] = 1e3*c.median
            del c; gc.collect()
        del cs; gc.collect()
        res.append(row); print('  ', row, flush=True)
    return res

def more_algos():
    "Each new optimizer: (ours(ps, fast), fastai's maker or None, torch.optim's maker taking implementation kwargs, or None), same algorithm and hypers"
    import callbackopt.more as cm, callbackopt.more_torch as ct
    O, fa = torch.optim, dict(lr=LR, wd=WD)
    return {   # fastai's: each with its defaults, decoupled weight decay (fastai's default) on both sides
        'RAdam':    (partial(cm.RAdam, **fa),  partial(fo.RAdam, **fa),  None),
        'QHAdam':   (partial(cm.QHAdam, **fa), partial(fo.QHAdam, **fa), None),
        'Larc':     (partial(cm.Larc, **fa),   partial(fo.Larc, **fa),   None),
        'Lamb':     (partial(cm.Lamb, **fa),   partial(fo.Lamb, **fa),   None),
        'ranger':   (partial(cm.ranger, **fa), partial(fo.ranger, **fa), None),
               # torch's: each with torch's defaults and L2 weight decay (torch's default; ours decouple_wd=False)
        'NAdam':    (partial(ct.NAdam, **fa),      None, partial(O.NAdam, lr=LR, weight_decay=WD)),
        'Adamax':   (partial(ct.Adamax, **fa),     None, partial(O.Adamax, lr=LR, weight_decay=WD)),
        'Adagrad':  (partial(ct.Adagrad, **fa),    None, partial(O.Adagrad, lr=LR, weight_decay=WD)),
        'Adadelta': (partial(ct.Adadelta, **fa),   None, partial(O.Adadelta, lr=LR, weight_decay=WD)),
        'RAdamTorch': (partial(ct.RAdamTorch, **fa), None, partial(O.RAdam, lr=LR, weight_decay=WD)),
               # no library version: ours only
        'Lion':     (partial(ct.Lion, **fa), None, None),
        'Adan':     (partial(ct.Adan, **fa), None, None)}

def torch_impls(make, device):
    "`make` in each implementation (for-loop, foreach, fused) that torch has on `device`"
    impls = {}
    for impl,kw in {'forloop': dict(foreach=False), 'foreach': dict(foreach=True), 'fused': dict(fused=True)}.items():
        try:
            ps = [torch.zeros(2, device=device, requires_grad=True)]; ps[0].grad = torch.zeros(2, device=device)
            make(ps, **kw).step(); impls[impl] = partial(make, **kw)
        except Exception: pass      # e.g. no fused NAdam
    return impls

def more_makers(algo, ours_mk, fastai_mk, torch_mk, device):
    "The cases for one new optimizer: torch's implementations, fastai's, ours eager, and fast with torch's default `zero_grad()` and with `zero_grad(set_to_none=False)`"
    makers = {}
    if torch_mk is not None:
        for impl,mk in torch_impls(torch_mk, device).items(): makers[f'{algo}/torch {impl}'] = mk
    if fastai_mk is not None: makers[f'{algo}/fastai'] = fastai_mk
    makers[f'{algo}/ours eager'] = partial(ours_mk, fast=False)
    makers[f'{algo}/ours fast'] = partial(ours_mk, fast=True)
    makers[f'{algo}/ours fast, zero_grad(set_to_none=False)'] = partial(ours_mk, fast=True)   # backward writes into the flat buffer: no copy
    return makers

def compare_more(device, rounds, algos=None, shapes=None):
    "Time each new optimizer against its library versions, in interleaved rounds per algorithm with a fused AdamW reference"
    shapes = shapes or [p.shape for p in torchvision.models.resnet34().parameters()]
    n = sum(s.numel() for s in shapes)
    torch.manual_seed(1)
    cs = [torch.randn(s, device=device) for s in shapes]
    ref = Case('AdamW/torch fused', torch_opts('adam', device)['fused'], shapes, cs, device)
    rows, all_ref = [], []
    for algo,(o,f,t) in more_algos().items():
        if algos and algo not in algos: continue
        makers = more_makers(algo, o, f, t, device)
        cases = build([(name, mk, 'set_to_none=False' not in name) for name,mk in makers.items()], shapes, cs, device)
        n_ref = len(ref.times)
        interleave(cases + [ref], rounds, device)
        ref_ms = 1e3 * statistics.median(ref.times[n_ref:]); all_ref += ref.times[n_ref:]
        by_name = {c.name: c for c in cases}
        tms = [1e3*by_name[k].median for k in makers if '/torch ' in k]
        same = min(tms) if tms else 1e3*by_name[f'{algo}/fastai'].median if f is not None else None
        for name in makers:
            c = by_name[name]; fast = getattr(c.opt, '_fast', None); ms = 1e3*c.median
            try: mem = c.mem/2**20
            except Exception: mem = None
            rows.append(dict(name=name, algo=algo, median_ms=ms, ratio=ms/ref_ms, ratio_same=ms/same if same else None,
                             same_ref='torch fastest' if tms else 'fastai' if f is not None else None, ref_ms=ref_ms,
                             first_s=c.first, second_s=c.second, added_mb=mem,
                             compiles=getattr(fast, 'n_compiles', None), mode=getattr(fast, 'mode', None)))
        print(f'  {algo}: ' + ', '.join(f"{r['name'].split('/')[1]} {r['median_ms']:.1f} ms" for r in rows if r['algo'] == algo), flush=True)
        del cases, by_name; gc.collect()
    return dict(n_params=n, n_tensors=len(shapes), rounds=rounds, ref_ms=1e3*statistics.median(all_ref), rows=rows)

def report_more(res):
    "The `--more` results as text"
    c, bw = res['compare'], res['bandwidth']
    out = [f"Machine: {res['machine']}; commit {res['commit']}",
           f"Streaming bandwidth (a.add_(b) on 50M floats): {bw/1e9:.1f} GB/s before, {res['bandwidth_after']/1e9:.1f} GB/s after",
           f"ResNet-34: {c['n_params']/1e6:.1f}M parameters in {c['n_tensors']} tensors; median of {c['rounds']} interleaved rounds "
           f"per optimizer, each with torch AdamW(fused=True) (median over all: {c['ref_ms']:.1f} ms)",
           "x fused: to AdamW(fused=True) in the same rounds; x same: to torch's fastest implementation of the same algorithm "
           "(fastai's class for fastai's optimizers)", '',
           f"{'optimizer':53} {'step ms':>8} {'x fused':>8} {'x same':>8} {'1st+2nd s':>9} {'adds MB':>8}  fast mode"]
    for r in c['rows']:
        same = f"{r['ratio_same']:8.2f}" if r['ratio_same'] else f"{'':8}"
        mb = f"{r['added_mb']:8.0f}" if r['added_mb'] is not None else f"{'':8}"
        out.append(f"{r['name']:53} {r['median_ms']:8.1f} {r['ratio']:8.2f} {same} {r['first_s']+r['second_s']:9.2f} {mb}  {r['mode'] or ''}")
    return '\n'.join(out)

def git_commit(more=False):
    "The commit the benchmark runs at; `BENCH_COMMIT` names it where the copy has no usable git history (a GPU machine's copy of the tree)"
    if os.environ.get('BENCH_COMMIT'): return os.environ['BENCH_COMMIT']
    try:
        d = os.path.dirname(os.path.abspath(__file__))
        h = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=d, capture_output=True, text=True).stdout.strip()
        used = ['optimizer_step.py'] + [f'../callbackopt/{m}.py' for m in ('optimizer', 'basics', 'momentum', 'rmsprop', 'adam', 'fast')]
        if more: used += ['../callbackopt/more.py', '../callbackopt/more_torch.py']
        dirty = subprocess.run(['git', 'status', '--porcelain', '--', *used], cwd=d, capture_output=True, text=True).stdout.strip()
        return h + (' (with uncommitted changes)' if dirty else '')
    except Exception: return 'unknown'

def machine(device):
    if device == 'cuda': return f"{torch.cuda.get_device_name()}, torch {torch.__version__.split('+')[0]}"
    return f"{os.cpu_count()}-core {platform.machine()} CPU, torch {torch.__version__.split('+')[0]}, {torch.get_num_threads()} thread(s)"

def report(res):
    "The results as text"
    c, bw = res['compare'], res['bandwidth']
    out = [f"Machine: {res['machine']}; commit {res['commit']}",
           f"Streaming bandwidth (a.add_(b) on 50M floats): {bw/1e9:.1f} GB/s; floor = bytes moved / bandwidth",
           f"ResNet-34: {c['n_params']/1e6:.1f}M parameters in {c['n_tensors']} tensors; median of {c['rounds']} interleaved rounds; "
           f"torch AdamW(fused=True) = {c['ref_ms']:.1f} ms", '',
           f"{'optimizer':45} {'step ms':>8} {'x fused':>8} {'x floor':>8} {'1st+2nd s':>9} {'adds MB':>8}"]
    for r in c['rows']:
        floor = 1e3 * BYTES[r['name'].split('/')[0]] * c['n_params'] / bw
        out.append(f"{r['name']:45} {r['median_ms']:8.1f} {r['ratio']:8.2f} {r['median_ms']/floor:8.2f} {r['first_s']+r['second_s']:9.2f} {r['added_mb']:8.0f}")
    if res.get('scaling'):
        out += ['', 'Adam, one group of 1M-element tensors: ms per step (x floor)']
        for row in res['scaling']:
            floor = 1e3 * BYTES['adam'] * row['n_params'] / bw
            out.append(f"{row['n_params']/1e6:6.0f}M  floor {floor:7.1f}  " + '  '.join(f"{k}: {row[k]:7.1f} ({row[k]/floor:.2f})" for k in row if k != 'n_params'))
    return '\n'.join(out)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='Adam and SGD only, 5 rounds, small scaling series')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--rounds', type=int, default=None)
    ap.add_argument('--no-scaling', action='store_true')
    ap.add_argument('--threads', type=int, default=None, help='torch threads (1 keeps a shared CPU from distorting the timings)')
    ap.add_argument('--more', action='store_true', help="the new optimizers (callbackopt.more, callbackopt.more_torch) instead of the four chains; no scaling series")
    ap.add_argument('--only', default=None, help="with --more: comma-separated names to time (e.g. Lamb,NAdam)")
    ap.add_argument('--json', default=None, help='also save the results here')
    ap.add_argument('--txt', default=None, help='also save the text report here')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    rounds = a.rounds or (5 if a.quick else 11)
    chains = ['sgd', 'adam'] if a.quick else ['sgd', 'momentum', 'rmsprop', 'adam']
    res = dict(machine=machine(a.device), device=a.device, commit=git_commit(a.more), bandwidth=bandwidth(a.device))
    if a.more: res['compare'] = compare_more(a.device, rounds, a.only.split(',') if a.only else None)
    else: res['compare'] = compare(a.device, rounds, chains, a.quick)
    if not a.no_scaling and not a.more: res['scaling'] = scaling(a.device, [1, 4] if a.quick else [1, 3, 10, 30, 100], 3 if a.quick else 5)
    res['bandwidth_after'] = bandwidth(a.device)
    txt = report_more(res) if a.more else report(res)
    print('\n' + txt)
    if a.json:
        with open(a.json, 'w') as f: json.dump(res, f, indent=1)
    if a.txt:
        with open(a.txt, 'w') as f: f.write(txt + '\n')
