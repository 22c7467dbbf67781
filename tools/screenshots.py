"""Screenshot every page of the rendered docs site in headless Chromium, at a desktop and a phone width.

Usage: python tools/screenshots.py [_docs] [--out _screenshots] [--widths 1280,420] [--pages index,adam]

For each page and width it writes `OUT/<page>-<width>.png` (the whole page, cut into tiles
`OUT/<page>-<width>-<i>.png` of at most `--tile` px when it is taller) and prints the page's height and
whether it scrolls sideways, naming the widest elements that stick out. Exit status 1 if any page does.
Each page is shot inside an iframe of the width asked for (Chromium's window is at least 500 px wide) that grows to the
page's height, so nothing is cut at the right and nothing but white follows the page.
The site is copied into `OUT/site/` first, with MathJax pointed at a local copy (npm's `mathjax@3`, installed
into ~/.cache/callbackopt-mathjax on first use) so formulas render offline. OUT gets a `.gitignore` of `*`.
Needs Debian's `chromium` (or `CHROMIUM=/path/to/chrome`) and Pillow (a fastai dependency) for the tiles.
"""
import argparse, json, os, re, shutil, subprocess, sys
from pathlib import Path

MATHJAX_CDN = re.compile(r'https://cdn\.jsdelivr\.net/npm/mathjax@3/es5/([\w.-]+\.js)')
MATHJAX_CACHE = Path.home()/'.cache'/'callbackopt-mathjax'

# after MathJax has typeset, report the page's size and the elements that stick out of the viewport
PROBE = """<script>
(function(){
  function report(){
    var vw = document.documentElement.clientWidth, out = [];
    document.querySelectorAll('body *').forEach(function(e){
      var r = e.getBoundingClientRect();
      if (r.right > vw + 1 && r.width > 0 && getComputedStyle(e).position != 'fixed') {
        var p = e.parentElement, clipped = false;
        while (p) { var o = getComputedStyle(p).overflowX; if (o == 'auto' || o == 'scroll' || o == 'hidden') { clipped = true; break; } p = p.parentElement; }
        if (!clipped) out.push({el: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined ? '.' + String(e.className).trim().split(/\\s+/).join('.') : ''),
                                right: Math.round(r.right), text: (e.textContent || '').trim().slice(0, 60)});
      }
    });
    var pre = document.createElement('pre'); pre.id = '__probe'; pre.style.display = 'none';
    pre.textContent = JSON.stringify({width: vw, scrollWidth: document.documentElement.scrollWidth,
      height: document.documentElement.scrollHeight, mathjax: !!(window.MathJax && MathJax.startup), wide: out.slice(0, 8)});
    document.body.appendChild(pre);
  }
  window.addEventListener('load', function(){
    var p = window.MathJax && MathJax.startup && MathJax.startup.promise;
    (p ? p.then(report, report) : Promise.resolve().then(report));
  });
})();
</script>
"""

def chromium():
    exe = os.environ.get('CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    if not exe: sys.exit('no chromium: `apt-get install chromium` (Debian) or set CHROMIUM')
    return exe

def mathjax_dir():
    "A local MathJax 3 (`es5/` folder), installed from npm on first use; None if that is not possible"
    d = MATHJAX_CACHE/'node_modules'/'mathjax'/'es5'
    if not d.exists() and shutil.which('npm'):
        MATHJAX_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(['npm', 'install', '--silent', '--no-audit', '--no-fund', 'mathjax@3'], cwd=MATHJAX_CACHE, check=False)
    return d if d.exists() else None

def stage(site, dest):
    "Copy `site` to `dest`, with a local MathJax and the probe script in every page"
    if dest.exists(): shutil.rmtree(dest)
    shutil.copytree(site, dest)
    mj = mathjax_dir()
    if mj is None: print('MathJax not available offline: formulas will show as TeX', file=sys.stderr)
    for f in dest.rglob('*.html'):
        s = f.read_text()
        if mj: s = MATHJAX_CDN.sub(lambda m: (mj/m.group(1)).as_uri(), s)
        f.write_text(s.replace('</body>', PROBE + '</body>', 1))

MIN_WINDOW = 500   # Chromium's narrowest window: each page is laid out in an iframe of the width asked for

# the frame starts 900 px tall and grows to the page's height, so that below the page there is only the frame's white
FRAME = """<html style="background:#fff"><body style="margin:0;background:#fff"><iframe id="f" src="{src}" style="width:{w}px;height:900px;border:0;display:block"></iframe>
<script>(function poll(){{ var f = document.getElementById('f'), d = f.contentDocument, p = d && d.getElementById('__probe');
  if (!p) return setTimeout(poll, 100);
  if (!document.getElementById('__probe')) {{
    var q = document.createElement('pre'); q.id = '__probe'; q.style.display = 'none'; q.textContent = p.textContent; document.body.appendChild(q); }}
  f.style.height = d.documentElement.scrollHeight + 'px'; setTimeout(poll, 200); }})();</script>
</body></html>"""

def url_at(page, width):
    "A page framing `page`, `width` px wide (even below Chromium's narrowest window) and as tall as `page`"
    f = page.with_name(f'__frame-{page.stem}-{width}.html')
    f.write_text(FRAME.format(src=page.name, w=width))
    return f.resolve().as_uri()

def browse(exe, url, width, height, *args):
    cmd = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--allow-file-access-from-files',
           f'--window-size={max(width, MIN_WINDOW)},{height}', '--virtual-time-budget=15000', *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)

def probe(exe, page, width):
    m = re.search(r'<pre id="__probe"[^>]*>(.*?)</pre>', browse(exe, url_at(page, width), width, 900, '--dump-dom').stdout, re.S)
    return json.loads(m.group(1).replace('&quot;', '"').replace('&lt;', '<').replace('&gt;', '>').replace('&amp;', '&')) if m else None

def tiles(png, tile, width):
    "Cut `png` to `width` px and into pieces at most `tile` px tall (kept whole when it is shorter)"
    try: from PIL import Image, ImageChops
    except ImportError: return [png]
    im = Image.open(png)
    if im.width > width: im = im.crop((0, 0, width, im.height)); im.save(png)   # the window's margin right of a framed page
    box = ImageChops.difference(im.convert('RGB'), Image.new('RGB', im.size, im.getpixel((0, im.height - 1)))).getbbox()
    if box and box[3] + 40 < im.height: im = im.crop((0, 0, im.width, box[3] + 40)); im.save(png)   # the margin the capture left below the page
    if im.height <= tile: return [png]
    out = []
    for i, top in enumerate(range(0, im.height, tile)):
        p = png.with_name(f'{png.stem}-{i}.png')
        im.crop((0, top, im.width, min(top + tile, im.height))).save(p); out.append(p)
    png.unlink()
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('site', nargs='?', default='_docs')
    ap.add_argument('--out', default='_screenshots')
    ap.add_argument('--widths', default='1280,420')
    ap.add_argument('--pages', default='', help='comma-separated page names (default: every page)')
    ap.add_argument('--tile', type=int, default=2400, help='tile height in px')
    ap.add_argument('--max-height', type=int, default=50000)
    a = ap.parse_args(argv)
    site, out, exe = Path(a.site), Path(a.out), chromium()
    out.mkdir(parents=True, exist_ok=True)
    (out/'.gitignore').write_text('*\n')
    stage(site, out/'site')
    pages = sorted(p for p in (out/'site').glob('*.html'))
    if a.pages: pages = [p for p in pages if p.stem in a.pages.split(',')]
    bad = 0
    for page in pages:
        for w in map(int, a.widths.split(',')):
            info = probe(exe, page, w)
            h = min(int(info['height'] * 1.3) + 600, a.max_height) if info else 2400   # the page can grow after the probe (fonts, MathJax): capture more, trim below
            png = out/f'{page.stem}-{w}.png'
            for old in out.glob(f'{page.stem}-{w}*.png'): old.unlink()
            browse(exe, url_at(page, w), w, h, f'--screenshot={png.resolve()}')
            shots = tiles(png, a.tile, w) if png.exists() else []
            sideways = bool(info) and info['scrollWidth'] > info['width']
            bad += sideways
            print(f"{page.stem} @{w}: height {info and info['height']}, {len(shots)} png"
                  + ('' if info else ', no probe result') + (', no MathJax' if info and not info['mathjax'] else '')
                  + (f", SCROLLS SIDEWAYS ({info['scrollWidth']} px): " + '; '.join(f"{e['el']} to {e['right']} px {e['text']!r}" for e in info['wide']) if sideways else ''))
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main())
