# Run on an H100 at commit 7c05702 (output: piece_reuse_ab_cuda.txt): python benchmarks/piece_reuse_ab.py
# A/B on the GPU: the fast step after torch's default zero_grad(), with _Flat.piece reusing the piece it handed out
# before (new) or making a new one every step (old, as at 2e1f3e3); fused AdamW as the reference. ResNet-34, medians.
import time, statistics, torch, torchvision, warnings
warnings.simplefilter('ignore')
import callbackopt.fast as cf
from callbackopt.adam import Adam
from callbackopt.more import Lamb
new_piece = cf._Flat.piece
def old_piece(self, off, like):
    t = self._bytes(off, like.numel()).as_strided(like.shape, like.stride()); self.given[off] = t; return t
dev = 'cuda'
shapes = [p.shape for p in torchvision.models.resnet34().parameters()]
grads = [torch.randn(s, device=dev) * 1e-3 for s in shapes]
def make(kind):
    ps = [torch.randn(s, device=dev).mul_(0.01).requires_grad_() for s in shapes]
    opt = {'adam': lambda: Adam(ps, lr=1e-3, wd=0.01, fast=True), 'lamb': lambda: Lamb(ps, lr=1e-3, wd=0.01, fast=True),
           'fused': lambda: torch.optim.AdamW(ps, lr=1e-3, weight_decay=0.01, fused=True)}[kind]()
    return ps, opt
def step(ps, opt, piece):
    cf._Flat.piece = piece
    for p,g in zip(ps, grads): p.grad = g.clone()     # a new gradient tensor, as after the default zero_grad()
    torch.cuda.synchronize(); t = time.perf_counter(); opt.step(); torch.cuda.synchronize()
    return time.perf_counter() - t
cases = {(k, pn): make(k) for k in ('adam', 'lamb') for pn in ('old', 'new')}
ref = make('fused')
pieces = {'old': old_piece, 'new': new_piece}
for _ in range(3):
    for (k, pn), (ps, o) in cases.items(): step(ps, o, pieces[pn])
    step(*ref, new_piece)
ts = {c: [] for c in [*cases, 'fused']}
for _ in range(21):
    for (k, pn), (ps, o) in cases.items(): ts[(k, pn)].append(step(ps, o, pieces[pn]))
    ts['fused'].append(step(*ref, new_piece))
med = {c: 1e3 * statistics.median(v) for c,v in ts.items()}
print(torch.cuda.get_device_name(), torch.__version__)
for c,v in med.items(): print(c, f"{v:.2f} ms", f"{v/med['fused']:.2f}x fused")
