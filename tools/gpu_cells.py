"""Run the `#| cuda` cells of notebooks on a machine with a GPU, with only the cells they need before them.

Usage: python tools/gpu_cells.py nbs/06_adam.ipynb [more.ipynb ...] [--check]

A notebook's `#| cuda` cells run after the `#| export` cells that define the module and the import statements of its
other cells (a missing module, such as `nbdev` on a machine that only runs code, is skipped); every other cell keeps its
stored output. The notebook is written back with the cuda cells' new
outputs. `--check` (on any machine) runs the set-up cells and then, in place of each cuda cell, only checks that every
name the cell reads is defined; it writes nothing.
"""
import argparse, ast, re, sys
from pathlib import Path
import nbformat
sys.path.insert(0, str(Path(__file__).parent))
from run_nb import SkippingClient, cell_flags, use_local_data

_directive = re.compile(r'^\s*#\|\s*(\w+)')

def is_setup(cell):
    "Does the code cell define the module (`#| export`)?"
    return cell.cell_type == 'code' and any(_directive.match(l) and _directive.match(l)[1] in ('export', 'exports', 'exporti')
                                            for l in cell.source.splitlines())

def imports_of(src):
    "The top-level import statements of a cell's code, each one skipped if its module is missing (`nbdev` for `show_doc`, say)"
    try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
    except SyntaxError: return ''
    return '\n'.join(f"try: {ast.unparse(n)}\nexcept ModuleNotFoundError as e: print('skipped:', e)"
                     for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))

def free_names(src):
    "Names a cell reads without assigning them first"
    tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith('%')))
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    stored |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs}
    stored |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - stored)

class CudaClient(SkippingClient):
    "Execute only the set-up cells and the `#| cuda` cells (or, with `check`, a name check in place of each cuda cell)"
    def __init__(self, nb, check=False, **kw): super().__init__(nb, cuda=True, **kw); self.check = check
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if 'cuda' in cell_flags(cell):
            if not self.check: return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            probe = nbformat.v4.new_code_cell(f"import builtins\n_m = [n for n in {free_names(cell.source)!r} if n not in globals() and not hasattr(builtins, n)]\n"
                                              f"print('cell {cell.get('id')}:', 'undefined', _m if _m else 'ok')")
            await super().async_execute_cell(probe, cell_index, execution_count, store_history)
            print(''.join(o.get('text', '') for o in probe.outputs), end='', flush=True)
            return cell
        if is_setup(cell): return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if imports_of(cell.source):     # only the cell's imports run, and its output stays
            await super().async_execute_cell(nbformat.v4.new_code_cell(imports_of(cell.source)), cell_index, execution_count, store_history)
        return cell

def run(path, check=False, allow_errors=False):
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    try: CudaClient(nb, check=check, allow_errors=allow_errors, timeout=1800, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    finally:
        if not check: nbformat.write(nb, path)       # on an error too: the failing cell shows its traceback

if __name__ == '__main__':
    use_local_data()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('nbs', nargs='+')
    ap.add_argument('--check', action='store_true', help='check the names each cuda cell reads instead of running it; write nothing')
    ap.add_argument('--allow-errors', action='store_true', help='run every cuda cell even after one fails (its traceback becomes its output)')
    a = ap.parse_args()
    for nb in a.nbs:
        print('running', nb, flush=True)
        run(nb, a.check, a.allow_errors)
