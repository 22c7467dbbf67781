"""Write README.md from nbs/index.ipynb (what `nbdev-readme` does with Quarto, which these machines lack).

Markdown cells are copied; code cells become ```python blocks followed by their text outputs (Markdown outputs, such
as a `Markdown(...)` table, as Markdown); image outputs are not copied (put images in nbs/images and link them from markdown). `--check` fails if README.md is out of date.
"""
import json, sys
from pathlib import Path

def render(nb_path='nbs/index.ipynb'):
    cells = json.loads(Path(nb_path).read_text())['cells']
    parts = ['<!-- WARNING: generated from nbs/index.ipynb by tools/make_readme.py; do not edit -->']
    for c in cells:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': parts.append(src.replace('](images/', '](nbs/images/'))
        elif c['cell_type'] == 'code' and not src.lstrip().startswith('#| hide'):
            if '#| echo: false' not in src: parts.append(f"```python\n{src}\n```")
            for o in c.get('outputs', []):
                data = o.get('data', {})
                if 'text/markdown' in data: parts.append(''.join(data['text/markdown']).rstrip())   # a table: as Markdown
                else:
                    text = ''.join(o.get('text', '') or data.get('text/plain', ''))
                    if text.strip(): parts.append(f"```\n{text.rstrip()}\n```")
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), Path('README.md')
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text: sys.exit("README.md is out of date: run python tools/make_readme.py")
    else: readme.write_text(text)
