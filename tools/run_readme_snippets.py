"""Run the ```python blocks of README.md, in order and in one namespace, as a reader pasting them would.

Usage: python tools/run_readme_snippets.py [README.md] [--timeout 300]

Each block runs in a fresh temporary working directory shared by all blocks (so files a snippet writes do
not land in the checkout). On the first failure it prints the block and the traceback and exits 1.
"""
import argparse, os, re, signal, sys, tempfile, time, traceback
from pathlib import Path

BLOCK = re.compile(r'^```python[ \t]*\n(.*?)^```[ \t]*$', re.S | re.M)

def snippets(text):
    "The ```python blocks of a Markdown text"
    return [m.group(1) for m in BLOCK.finditer(text)]

def _timeout(signum, frame): raise TimeoutError('README snippets took too long')

def run(readme='README.md', timeout=300):
    blocks = snippets(Path(readme).read_text())
    if not blocks: print(f'{readme}: no ```python blocks'); return 0
    ns, cwd, start = {'__name__': '__main__'}, os.getcwd(), time.time()
    signal.signal(signal.SIGALRM, _timeout); signal.alarm(timeout)
    with tempfile.TemporaryDirectory(prefix='readme-') as d:
        os.chdir(d)
        try:
            for i, src in enumerate(blocks, 1):
                t = time.time()
                try: exec(compile(src, f'{readme} block {i}', 'exec'), ns)
                except BaseException:
                    print(f'{readme}: block {i} of {len(blocks)} failed:\n{src}', file=sys.stderr)
                    traceback.print_exc()
                    return 1
                print(f'{readme}: block {i} of {len(blocks)} ran in {time.time()-t:.1f} s')
        finally:
            signal.alarm(0); os.chdir(cwd)
    print(f'{readme}: {len(blocks)} python block(s) OK in {time.time()-start:.1f} s')
    return 0

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('readme', nargs='?', default='README.md')
    ap.add_argument('--timeout', type=int, default=300, help='seconds for all blocks together')
    a = ap.parse_args()
    sys.exit(run(a.readme, a.timeout))
