"""Execute notebooks in place so that every stored output is real.

Usage: python tools/run_nb.py nbs/03_momentum.ipynb [more.ipynb ...] [--skip cuda,slow]

Cells flagged `#| cuda` run only with `--cuda` (on a machine with a GPU); otherwise they keep the outputs a GPU run
stored in them. Cells flagged with one of `--skip` keep whatever output they already had (use this only to
re-run the fast cells of a notebook whose slow cells did not change). Runs in `nbs/`, like nbdev-test.
Where a local Imagenette archive lies beside the checkout, `CALLBACKOPT_IMAGENETTE` points at it (notebooks never
name a local path: without it, `get_data()` uses fastai's download).
"""
import argparse, os, re, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient

_flag_re = re.compile(r'^\s*#\|\s*(cuda|slow|notest)\s*$', re.MULTILINE)

def cell_flags(cell):
    "The nbdev test flags (`cuda`, `slow`, `notest`) a code cell carries"
    return set(_flag_re.findall(cell.source)) if cell.cell_type == 'code' else set()

class SkippingClient(NotebookClient):
    "An nbclient that leaves `#| cuda` cells (unless `cuda`) and cells with a flag in `skip` untouched"
    def __init__(self, nb, skip=(), only=(), cuda=False, **kw):
        super().__init__(nb, **kw)
        self.skip,self.only,self.cuda = set(skip),set(only),cuda
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        flags = cell_flags(cell)
        if 'cuda' in flags and not self.cuda: return cell
        if flags & self.skip and cell.get('id') not in self.only: return cell
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

def run(path, skip=(), only=(), cuda=False, timeout=1800):
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    SkippingClient(nb, skip=skip, only=only, cuda=cuda, timeout=timeout, kernel_name='python3',
                   resources={'metadata': {'path': str(path.parent)}}).execute()
    nbformat.write(nb, path)

def use_local_data():
    "Point `CALLBACKOPT_IMAGENETTE` at a local Imagenette archive beside the checkout, if there is one (else fastai downloads)"
    local = Path(__file__).resolve().parents[2]/'shared'/'data'/'imagenette2-160.tgz'
    if local.exists(): os.environ.setdefault('CALLBACKOPT_IMAGENETTE', str(local))

if __name__ == '__main__':
    use_local_data()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('nbs', nargs='+')
    ap.add_argument('--skip', default='', help='comma-separated flags whose cells keep their outputs')
    ap.add_argument('--only', default='', help='comma-separated cell ids that run although their flag is skipped')
    ap.add_argument('--cuda', action='store_true', help='run the `#| cuda` cells too (on a machine with a GPU)')
    ap.add_argument('--timeout', type=int, default=1800, help="seconds one cell may run (a long real-data cell on a loaded CPU needs more)")
    a = ap.parse_args()
    for nb in a.nbs:
        print('running', nb, flush=True)
        run(nb, [s for s in a.skip.split(',') if s], [s for s in a.only.split(',') if s], a.cuda, a.timeout)
